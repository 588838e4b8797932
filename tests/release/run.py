#!/usr/bin/env python3
"""Unattended release tests (SPEC §11): rollouts and guards against a real nginx, timed by
polling the status JSON, never by fixed sleeps. Intervals and windows are seconds long.

  walk        worker_processes 4, traffic from 4 threads: a rollout walks every step to
              `promoted`; each transition is logged exactly once; then everyone is on gray
  rollback    worker_processes 4: a gray version answering 5xx trips its guard: `rolledBack`
              with reason and figures, one [warn] line, its bucket range goes to base with
              `rollback:beta` (the same users), sticky assets stay; it lasts across a reload
              and a restart; a reset clears it; a new version starts afresh
  control     PATCH pause / resume / reset; a reload keeps a paused step, new steps restart
  restart     frontend_gray_state keeps a rollout's step and a rollback over a restart
  beacon      tokens from entry pages count once per (page view, seq); forged, replayed,
              out-of-range, other-location and non-POST reports count nothing; 204 always;
              an oversized body is not read; tokens survive a reload, those of a version the
              YAML no longer has count nothing
  flood       wrk sends forged reports for DURATION seconds: no counter moves, the workers'
              memory does not grow
  jsguard     rules mode: a guard on jsError alone trips from beacon reports; the rule then
              gives base with `rollback:beta`
  browser     headless Chromium (tests/release/browser.mjs): a gray version whose script throws
              is rolled back from the browser's own reports; one with a missing asset from
              asset404 alone; a healthy one walks to promoted; the dashboard's buttons pause,
              resume and reset a rollout

    tests/release/run.py --nginx BIN --module SO [--only NAME,NAME]

Every process started is stopped by its PID. Ends with `release tests: N passed, M failed`.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from nginxproc import free_port, rss_kb, run_tests, wait_listening, workers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIXES = []  # removed at the end, unless a test failed


class Nginx:
    """nginx with the module, one app `app` (conf/app.yaml) on `/`, a status location with
    writes and the beacon on /gray/beacon; version v2x's entries answer 503."""

    def __init__(self, binary, module, yaml, workers_n=1, extra_http=""):
        self.binary, self.module = binary, module
        self.prefix = tempfile.mkdtemp(prefix="fg-release-")
        PREFIXES.append(self.prefix)
        self.port = free_port()
        self.proc = None
        for d in ("conf", "logs", "tmp", "state"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        for v in ("v1", "v2", "v2x", "v3"):
            self.write(f"html/{v}/index.html",
                       f"<!doctype html><html><head><title>{v}</title></head><body><h1>{v}</h1></body></html>\n")
            self.write(f"html/{v}/a.js", f"{v}\n")
            self.write(f"html/{v}/favicon.ico", "icon\n")  # browsers ask for it: no 404 there
        self.write("conf/app.yaml", yaml)
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.write("conf/nginx.conf", f"""load_module {module};
{user}worker_processes {workers_n};
daemon off;
master_process on;
pid logs/nginx.pid;
error_log logs/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    log_not_found off;
    default_type text/plain;
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    types {{ text/html html; application/javascript js; }}
    {extra_http}
    server {{
        listen 127.0.0.1:{self.port} reuseport;
        add_header X-Pid $pid always;
        add_header X-Version $gray_version always;
        add_header X-Reason $gray_reason always;
        location = / {{ frontend_gray app.yaml; try_files /.none @entry; }}
        location @entry {{
            if ($gray_version = v2x) {{ return 503 "broken version\\n"; }}
            return 200 "$gray_version\\n";
        }}
        location /page/ {{
            frontend_gray app.yaml;
            rewrite ^/page/(.*)$ /$1 break;
            root html/$gray_version;
        }}
        # assets revalidated: the same URL is a different script after a rollback here (real
        # sites name assets by version)
        location / {{ frontend_gray app.yaml; root html/$gray_version; expires -1; }}
        location = /gray/beacon {{ frontend_gray_beacon; }}
        location = /other/beacon {{ return 204; }}
        location /gray/status {{ frontend_gray_status write=on; }}
    }}
}}
""")

    def write(self, rel, text):
        p = os.path.join(self.prefix, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "-p", self.prefix + "/", "-c", "conf/nginx.conf"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.port, self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def reload(self, yaml=None):
        """SIGHUP (with a new app.yaml), then waits until only new workers serve."""
        if yaml is not None:
            self.write("conf/app.yaml", yaml)
        old = set(workers(self.proc.pid))
        self.proc.send_signal(signal.SIGHUP)
        poll(lambda: (lambda w: w and not (w & old))(set(workers(self.proc.pid))), 15, "new workers")

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs/error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def request(self, method, path, headers=None, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def status(self):
        s, _, b = self.request("GET", "/gray/status?format=json")
        assert s == 200, s
        return json.loads(b)

    def dep(self, name="beta"):
        return self.status()["apps"]["app"]["deployments"][name]

    def patch(self, doc):
        s, _, b = self.request("PATCH", "/gray/status/apps/app", {"Content-Type": "application/json"},
                               json.dumps(doc).encode())
        return s, json.loads(b)


def poll(cond, seconds, what, every=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def check_log(ng):
    bad = [ln for ln in ng.error_log().splitlines()
           if any(k in ln for k in ("[alert]", "[crit]", "[emerg]", "[error]", "panicked", "exited on signal"))]
    assert not bad, "error log: " + "\n".join(bad[:5])


class Traffic:
    """Threads sending entry requests with fresh uids until stopped."""

    def __init__(self, ng, threads=4, path="/", cookie=None):
        self.ng, self.stop_ev, self.seen, self.errors = ng, threading.Event(), {}, []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i, path, cookie)) for i in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, k, path, cookie):
        i = 0
        while not self.stop_ev.is_set():
            i += 1
            h = {"Cookie": cookie or f"x-higress-uid=t{k}-{i}-{time.time_ns()}"}
            try:
                s, hd, _ = self.ng.request("GET", path, h)
            except OSError as e:
                with self.lock:
                    self.errors.append(repr(e))
                continue
            with self.lock:
                key = (s, hd.get("x-version"))
                self.seen[key] = self.seen.get(key, 0) + 1
                self.seen.setdefault("pids", set()).add(hd.get("x-pid"))

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join()
        assert not self.errors, self.errors[:3]
        return self.seen


WALK = """baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  rollout: {steps: [10, 50, 100], interval: 1s}
"""


def t_walk(args):
    ng = Nginx(args.nginx, args.module, WALK, workers_n=4).start()
    tr = None
    try:
        d = ng.dep()
        assert d["state"] == "rollout" and d["rollout"]["step"] == 1 and d["weight"] == 10, d
        tr = Traffic(ng)
        steps = []

        def moved():
            r = ng.dep()
            key = (r["state"], r["rollout"]["step"], r["weight"])
            if not steps or steps[-1] != key:
                steps.append(key)
            return r["state"] == "promoted"
        poll(moved, 20, "promoted")
        seen = tr.stop()
        tr = None
        assert steps[0] == ("rollout", 1, 10) and steps[-1] == ("promoted", 3, 100), steps
        assert [s for s in steps if s[0] == "rollout"] == [("rollout", 1, 10), ("rollout", 2, 50),
                                                          ("rollout", 3, 100)], steps
        log = ng.error_log()
        for line in ("rollout step 1 -> 2 (weight 50)", "rollout step 2 -> 3 (weight 100)",
                     "promoted (weight 100)"):
            n = log.count(line)
            assert n == 1, f"{line!r} logged {n} times"
        pids = {p for p in seen.pop("pids") if p} & {str(p) for p in workers(ng.proc.pid)}
        assert len(pids) >= 2, f"only workers {pids} served"
        for i in range(40):
            s, h, b = ng.request("GET", "/", {"Cookie": f"x-higress-uid=after-{i}"})
            assert b == b"v2\n" and h["x-reason"] == "weight", (b, h)
        check_log(ng)
        return f"steps {steps} over {len(pids)} workers; each transition logged once"
    finally:
        if tr:
            tr.stop()
        ng.stop()


def rollback_yaml(version="v2x"):
    return f"""baseDeployment: {{version: v1}}
grayDeployments:
- name: beta
  version: {version}
  enabled: true
  weight: 50
  guard: {{window: 4s, minEntries: 20, maxErrorRate: 0.5, errors: [5xx]}}
"""


def t_rollback(args):
    ng = Nginx(args.nginx, args.module, rollback_yaml(), workers_n=4,
               extra_http="frontend_gray_state state/gray.json;").start()
    tr = None
    try:
        gray_uids = []
        for i in range(20):
            _, h, _ = ng.request("GET", "/", {"Cookie": f"x-higress-uid=g{i}"})
            gray_uids.append((f"g{i}", h["x-version"] == "v2x"))
        assert {w for _, w in gray_uids} == {True, False}, gray_uids
        tr = Traffic(ng)
        d = poll(lambda: (lambda r: r if r["state"] == "rolledBack" else None)(ng.dep()), 20, "rolledBack")
        seen = tr.stop()
        tr = None
        assert seen.get((503, "v2x"), 0) >= 10, seen
        rb = d["guard"]["rollback"]
        assert d["weight"] == 0 and d["guard"]["judged"] == "off", d
        assert "maxErrorRate 0.5" in rb["reason"] and rb["entries"] >= 20 and rb["errorRate"] > 0.5, rb
        assert d["status"]["entry"]["5xx"] >= 20, d
        log = ng.error_log()
        warn = [ln for ln in log.splitlines() if "rolled back" in ln]
        assert len(warn) == 1 and "[warn]" in warn[0] and 'deployment "beta" version "v2x"' in warn[0], warn
        # nobody new gets it: its bucket range and its rule go to base with rollback:beta
        reasons = {}
        for i in range(60):
            s, h, b = ng.request("GET", "/", {"Cookie": f"x-higress-uid=r{i}"})
            assert s == 200 and b == b"v1\n", (s, h, b)
            reasons[h["x-reason"]] = reasons.get(h["x-reason"], 0) + 1
        assert set(reasons) == {"weight", "rollback:beta"}, reasons
        # the same users as before it: the bucket range did not move
        for uid, was in gray_uids:
            s, h, b = ng.request("GET", "/", {"Cookie": f"x-higress-uid={uid}"})
            assert h["x-reason"] == ("rollback:beta" if was else "weight"), (uid, was, h)
        # an open page keeps its assets
        s, h, b = ng.request("GET", "/a.js", {"Cookie": "x-higress-tag=v2x"})
        assert s == 200 and h["x-reason"] == "sticky" and h["x-version"] == "v2x", (s, h)
        # a reload keeps the rollback
        ng.reload()
        assert ng.dep()["state"] == "rolledBack"
        uid = next(u for u, was in gray_uids if was)
        s, h, b = ng.request("GET", "/", {"Cookie": f"x-higress-uid={uid}"})
        assert b == b"v1\n", b
        # and a restart (frontend_gray_state)
        ng.stop()
        ng.start()
        d = ng.dep()
        assert d["state"] == "rolledBack" and d["guard"]["rollback"]["reason"] == rb["reason"], d
        # a reset clears it and empties the window
        s, r = ng.patch({"deployments": {"beta": {"reset": True}}})
        assert s == 200 and r["deployments"]["beta"]["state"] == "active", r
        d = ng.dep()
        assert d["guard"]["rollback"] is None and d["guard"]["judged"] == "tooFew" and d["weight"] == 50, d
        s, h, b = ng.request("GET", "/", {"Cookie": f"x-higress-uid={uid}"})
        assert s == 503 and h["x-version"] == "v2x" and h["x-reason"] == "weight", (s, h)
        # trips again, then a new version in the YAML starts afresh
        tr = Traffic(ng)
        poll(lambda: ng.dep()["state"] == "rolledBack", 20, "rolledBack again")
        tr.stop()
        tr = None
        assert ng.error_log().count("rolled back") == 2
        ng.reload(rollback_yaml("v3"))
        d = ng.dep()
        assert d["state"] == "active" and d["version"] == "v3" and d["guard"]["rollback"] is None, d
        check_log(ng)
        return f"rolled back on {rb['reason']}; kept over a reload, cleared by reset, new version fresh"
    finally:
        if tr:
            tr.stop()
        ng.stop()


CONTROL = """baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  rollout: {steps: [10, 20, 30, 40], interval: 1s}
"""


def t_control(args):
    ng = Nginx(args.nginx, args.module, CONTROL, workers_n=2).start()
    try:
        poll(lambda: (ng.request("GET", "/"), ng.dep()["rollout"]["step"] >= 2)[1], 10, "step 2")
        s, r = ng.patch({"deployments": {"beta": {"rollout": "pause"}}})
        assert s == 200, r
        d = r["deployments"]["beta"]
        step = d["rollout"]["step"]
        assert d["state"] == "paused" and d["rollout"]["nextStep"] is None, d
        # requests flow for over two intervals: still paused on that step
        t0 = time.time()
        while time.time() - t0 < 2.5:
            ng.request("GET", "/")
        d = ng.dep()
        assert d["state"] == "paused" and d["rollout"]["step"] == step, d
        # a reload keeps the paused step
        ng.reload()
        d = ng.dep()
        assert d["state"] == "paused" and d["rollout"]["step"] == step, d
        # new steps restart the rollout
        ng.reload(CONTROL.replace("[10, 20, 30, 40]", "[5, 20, 30, 40]"))
        d = ng.dep()
        assert d["state"] == "rollout" and d["rollout"]["step"] == 1 and d["weight"] == 5, d
        s, r = ng.patch({"deployments": {"beta": {"rollout": "pause"}}})
        s, r = ng.patch({"deployments": {"beta": {"rollout": "resume"}}})
        assert s == 200 and r["deployments"]["beta"]["state"] == "rollout", r
        poll(lambda: (ng.request("GET", "/"), ng.dep()["state"] == "promoted")[1], 15, "promoted")
        s, r = ng.patch({"deployments": {"beta": {"rollout": "pause"}}})
        assert s == 400 and "promoted" in r["error"], (s, r)
        s, r = ng.patch({"deployments": {"beta": {"reset": True}}})
        assert s == 200 and r["deployments"]["beta"]["rollout"]["step"] == 1, r
        s, r = ng.patch({"deployments": {"base": {"rollout": "pause"}}})
        assert s == 400, (s, r)
        assert "changed by 127.0.0.1" in ng.error_log()
        check_log(ng)
        return f"paused at step {step} across a reload, restarted by new steps, resumed to promoted, reset"
    finally:
        ng.stop()


def t_restart(args):
    ng = Nginx(args.nginx, args.module, CONTROL, extra_http="frontend_gray_state state/gray.json;")
    ng.start()
    try:
        poll(lambda: (ng.request("GET", "/"), ng.dep()["rollout"]["step"] >= 2)[1], 10, "step 2")
        s, r = ng.patch({"deployments": {"beta": {"rollout": "pause"}}})
        step = r["deployments"]["beta"]["rollout"]["step"]
        with open(os.path.join(ng.prefix, "state/gray.json")) as f:
            st = json.load(f)
        assert st["apps"]["app"]["deployments"]["beta"]["release"], st
        ng.stop()
        ng.start()
        d = ng.dep()
        assert d["state"] == "paused" and d["rollout"]["step"] == step, d
        check_log(ng)
        return f"paused step {step} kept over a restart"
    finally:
        ng.stop()


MONITOR = """monitor: {beacon: /gray/beacon}
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
"""

def token_of(body):
    head = body.split(b"</script>", 1)[0]
    m = re.search(rb"([A-Za-z0-9_-]{43})", head)
    assert m and body.index(b"<script") < body.index(b"<title>"), body[:300]
    return m.group(1).decode()


def js_errors(ng, name):
    return ng.dep(name)["jsErrors"]


def report(ng, token, n, body=b"Error: x", path="/gray/beacon", method="POST"):
    s, h, _ = ng.request(method, f"{path}?t={token}&n={n}", {"Content-Type": "text/plain"}, body)
    return s, h


def t_beacon(args):
    ng = Nginx(args.nginx, args.module, MONITOR, workers_n=2).start()
    try:
        s, h, body = ng.request("GET", "/index.html", {"Cookie": "userid=u2"})
        assert s == 200 and b"<h1>v2</h1>" in body, (s, body)
        tok = token_of(body)
        s2, _, body2 = ng.request("GET", "/index.html", {"Cookie": "userid=u2"})
        assert token_of(body2) != tok, "two page views got the same token"
        assert js_errors(ng, "beta") == 0
        for n in (1, 1, 2, 2, 6, 0):
            s, _ = report(ng, tok, n)
            assert s == 204, s
        assert js_errors(ng, "beta") == 2, ng.dep("beta")
        forged = tok[:-2] + ("AA" if tok[-2:] != "AA" else "BA")
        assert report(ng, forged, 3)[0] == 204
        assert report(ng, tok, 3, method="GET")[0] == 405
        assert report(ng, tok, 3, path="/other/beacon")[0] == 204
        assert js_errors(ng, "beta") == 2
        # base's page view counts for base
        _, _, b1 = ng.request("GET", "/index.html")
        report(ng, token_of(b1), 1)
        assert js_errors(ng, "base") == 1 and js_errors(ng, "beta") == 2
        # an oversized body is not read: 204 and the connection closes
        c = socket.create_connection(("127.0.0.1", ng.port))
        c.sendall(f"POST /gray/beacon?t={tok}&n=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode()
                  + b"x" * 1000)
        c.settimeout(5)
        raw = b""
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            raw += chunk
        c.close()
        assert raw.startswith(b"HTTP/1.1 204") and b"Connection: close" in raw, raw
        assert js_errors(ng, "beta") == 3  # n=4 was new
        # a reload keeps the key: the page's token still counts; a version the YAML no longer
        # has counts nothing
        ng.reload()
        assert report(ng, tok, 5)[0] == 204 and js_errors(ng, "beta") == 4
        ng.reload(MONITOR.replace("version: v2", "version: v3"))
        _, _, b3 = ng.request("GET", "/index.html", {"Cookie": "userid=u2"})
        assert b"<h1>v3</h1>" in b3
        report(ng, token_of(body2), 1)
        report(ng, token_of(b3), 1)
        d = ng.dep("beta")
        assert d["version"] == "v3" and d["jsErrors"] == 1, d
        check_log(ng)
        return "genuine reports counted once per (page view, seq); forged, replayed, seq 6/0, GET ignored"
    finally:
        ng.stop()


FLOOD_LUA = """
-- well-formed tokens (43 base64url characters, the last one canonical) with a random MAC
wrk.method = "POST"
wrk.body = "Error: forged"
wrk.headers["Content-Type"] = "text/plain"
local cs = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local last = "AEIMQUYcgkosw048"
request = function()
  local t = {}
  for i = 1, 42 do local k = math.random(1, 64); t[i] = cs:sub(k, k) end
  local k = math.random(1, 16); t[43] = last:sub(k, k)
  return wrk.format(nil, "/gray/beacon?t=" .. table.concat(t) .. "&n=" .. math.random(1, 5))
end
"""


def t_flood(args):
    ng = Nginx(args.nginx, args.module, MONITOR, workers_n=1).start()
    try:
        ng.request("GET", "/index.html")
        pid = workers(ng.proc.pid)[0]
        before = ng.status()
        # warm up (the first requests grow the pools nginx keeps)
        lua = os.path.join(ng.prefix, "flood.lua")
        with open(lua, "w") as f:
            f.write(FLOOD_LUA)
        url = f"http://127.0.0.1:{ng.port}/gray/beacon"
        subprocess.run(["wrk", "-t1", "-c16", "-d2s", "-s", lua, url], capture_output=True, timeout=30)
        rss0 = rss_kb(pid)
        d = str(args.duration)
        out = subprocess.run(["wrk", "-t1", "-c16", "-d" + d + "s", "-s", lua, url],
                             capture_output=True, text=True, timeout=args.duration + 30).stdout
        rss1 = rss_kb(pid)
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        rate = float(m.group(1)) if m else 0
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        assert not non2xx, out
        after = ng.status()
        for name in ("base", "beta"):
            a, b = after["apps"]["app"]["deployments"][name], before["apps"]["app"]["deployments"][name]
            assert a["jsErrors"] == b["jsErrors"] == 0, (name, a["jsErrors"])
        assert rss1 - rss0 <= 64, f"worker RSS grew {rss1 - rss0} KB"
        assert rate >= 10000, f"only {rate:.0f} reports/s: not the flood the test is about"
        check_log(ng)
        return f"{rate:.0f} forged reports/s for {d} s: no counter moved, worker RSS {rss0} -> {rss1} KB"
    finally:
        ng.stop()


JSGUARD = MONITOR.replace("- {name: beta, version: v2, enabled: true}", """- name: beta
  version: v2
  enabled: true
  guard: {window: 10s, minEntries: 5, maxErrorRate: 0.3, errors: [jsError]}""")


def t_jsguard(args):
    ng = Nginx(args.nginx, args.module, JSGUARD, workers_n=2).start()
    try:
        for i in range(10):
            _, _, b = ng.request("GET", "/index.html", {"Cookie": "userid=u2"})
            if i < 4:
                report(ng, token_of(b), 1)
        d = poll(lambda: (lambda r: r if r["state"] == "rolledBack" else None)(
            (ng.request("GET", "/"), ng.dep())[1]), 10, "rolledBack")
        assert "jsErrors" in d and d["jsErrors"] == 4 and d["guard"]["rollback"]["errorCount"] == 4, d
        s, h, b = ng.request("GET", "/index.html", {"Cookie": "userid=u2"})
        assert b"<h1>v1</h1>" in b and h["x-reason"] == "rollback:beta", h
        check_log(ng)
        return f"4 reports over 10 views tripped: {d['guard']['rollback']['reason']}"
    finally:
        ng.stop()


BROWSER = {
    # v2's own script throws on every page view; its errors reach the beacon
    "jserror": ("""monitor: {beacon: /gray/beacon}
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  guard: {window: 30s, minEntries: 3, maxErrorRate: 0.5, errors: [jsError]}
""", {"html/v2/index.html": '<!doctype html><html><head><title>v2</title></head><body><h1>v2</h1>'
                            '<script src="/app.js"></script></body></html>',
      "html/v2/app.js": "document.title = 'v2 broken'; null.render();\n",
      "html/v1/index.html": '<!doctype html><html><head><title>v1</title></head><body><h1>v1</h1>'
                            '<script src="/app.js"></script></body></html>',
      "html/v1/app.js": "document.title = 'v1 ok';\n"}),
    # v2 was half uploaded: its page names a script that is not there
    "asset404": ("""grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  guard: {window: 30s, minEntries: 3, maxErrorRate: 0.5, errors: [asset404]}
""", {"html/v2/index.html": '<!doctype html><html><head><title>v2</title>'
                            '<script src="/chunk-3f2a.js"></script></head><body><h1>v2</h1></body></html>'}),
    # a healthy v2 walks a short rollout to the end
    "walk": ("""monitor: {beacon: /gray/beacon}
baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  rollout: {steps: [30, 60, 100], interval: 3s}
  guard: {window: 10s, minEntries: 1, maxErrorRate: 0.2}
""", {"html/v2/index.html": '<!doctype html><html><head><title>v2</title></head><body><h1>v2</h1>'
                            '<script src="/app.js"></script></body></html>',
      "html/v2/app.js": "document.title = 'v2 ok';\n"}),
    # the dashboard's rollout buttons
    "dashboard": ("""baseDeployment: {version: v1}
grayDeployments:
- name: beta
  version: v2
  enabled: true
  rollout: {steps: [10, 100], interval: 1h}
  guard: {window: 60s, maxErrorRate: 0.5}
""", {}),
}


def t_browser(args):
    if not os.path.isdir(os.path.join(HERE, "..", "browser", "node_modules", "playwright-core")):
        raise AssertionError("playwright-core is not installed: run tests/browser/run first")
    results = []
    for name, (yaml, files) in BROWSER.items():
        ng = Nginx(args.nginx, args.module, yaml, workers_n=2)
        for path, text in files.items():
            ng.write(path, text)
        ng.start()
        try:
            r = subprocess.run(["node", os.path.join(HERE, "browser.mjs"), name, f"http://127.0.0.1:{ng.port}",
                                os.path.join(HERE, "..", "browser", "package.json")],
                               capture_output=True, text=True, timeout=120)
            out = (r.stdout + r.stderr).strip()
            assert r.returncode == 0, f"{name}: {out[-3000:]}"
            bad = [ln for ln in ng.error_log().splitlines()
                   if any(k in ln for k in ("[alert]", "[crit]", "[emerg]", "panicked", "exited on signal"))
                   or ("[error]" in ln and "chunk-3f2a.js" not in ln)]
            assert not bad, bad[:3]
            assert ng.error_log().count("rolled back") == (1 if name in ("jserror", "asset404") else 0), name
            results.append(out.splitlines()[-1])
        finally:
            ng.stop()
    return "; ".join(results)


TESTS = [("walk", t_walk), ("rollback", t_rollback), ("control", t_control), ("restart", t_restart),
         ("beacon", t_beacon), ("flood", t_flood), ("jsguard", t_jsguard), ("browser", t_browser)]


def main():
    def more(ap):
        ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "5")))
    failed = run_tests(TESTS, "release", more)
    if not failed:
        for p in PREFIXES:
            shutil.rmtree(p, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
