#!/usr/bin/env python3
"""Status and steering tests that need more than one nginx block can give (SPEC §9, §10):

  exactness     worker_processes 4 (reuseport spreads connections over them): N requests of
                each kind (entry, asset, manifest, 404 asset, 5xx entry from a proxied origin)
                give exactly N in each counter
  promtool      the Prometheus text passes `promtool check metrics`
  prometheus    a real Prometheus server (127.0.0.1, 1 s scrape interval) scrapes the module;
                its HTTP API is polled until a counter has the expected value
  restart       frontend_gray_state: a pin survives stopping and starting nginx
  dashboard     the HTML dashboard in headless Chromium (tests/status/dashboard.mjs): share and
                error rate per version, refreshes itself, its button pins the app
  pin-load      wrk at an entry and an asset while the pin is set and removed every 200 ms
                for DURATION seconds: no errors, every answer's version one the config or
                the pin allows, both versions seen

    tests/status/run.py --nginx BIN --module SO [--only NAME,NAME]

Every process started is stopped by its PID. Ends with `status tests: N passed, M failed`.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from nginxproc import free_port, wait_listening, workers  # noqa: E402

YAML = """grayKey: userid
indexPaths: ["/app/manifest.json"]
rules:
- {name: beta, grayKeyValue: [u2]}
- {name: gamma, grayKeyValue: [u3]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
- {name: gamma, version: v3, enabled: true}
"""


PREFIXES = []  # removed at the end, unless a test failed


class Nginx:
    def __init__(self, binary, module, workers_n=1, extra_http="", keep_prefix=None):
        self.binary, self.module = binary, module
        self.prefix = keep_prefix or tempfile.mkdtemp(prefix="fg-status-")
        PREFIXES.append(self.prefix)
        self.port = free_port()
        self.origin_port = free_port()
        self.proc = None
        for d in ("conf", "logs", "tmp", "html/app/v1/app", "html/app/v2/app", "html/app/v3/app"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        for v in ("v1", "v2", "v3"):
            self.write(f"html/app/{v}/a.js", f"{v}\n")
            self.write(f"html/app/{v}/app/manifest.json", f'{{"v": "{v}"}}\n')
        self.write("conf/app.yaml", YAML)
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
    {extra_http}
    server {{
        listen 127.0.0.1:{self.origin_port};
        location / {{ return 502 "origin down\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{self.port} reuseport;
        add_header X-Pid $pid;
        location = / {{ frontend_gray app.yaml; try_files /.none @entry; }}
        location @entry {{ return 200 "$gray_version\\n"; }}
        location /fail/ {{ frontend_gray app.yaml; proxy_pass http://127.0.0.1:{self.origin_port}; }}
        location / {{
            frontend_gray app.yaml;
            root html/app/$gray_version;
        }}
        location /gray/status {{ frontend_gray_status write=on; }}
        location /ro/status {{ frontend_gray_status; }}
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
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def status(self):
        s, _, b = self.request("GET", "/gray/status?format=json")
        assert s == 200, s
        return json.loads(b)

    def patch(self, doc):
        s, _, b = self.request("PATCH", "/gray/status/apps/app", {"Content-Type": "application/json"},
                               json.dumps(doc).encode())
        return s, b


def check_log(ng):
    bad = [ln for ln in ng.error_log().splitlines()
           if any(k in ln for k in ("[alert]", "[crit]", "[emerg]", "[error]", "panicked", "exited on signal"))]
    assert not bad, "error log: " + "\n".join(bad[:5])


def t_exactness(args):
    n = args.n
    ng = Nginx(args.nginx, args.module, workers_n=4).start()
    try:
        kinds = [("/", {}, 200), ("/", {"Cookie": "userid=u2"}, 200), ("/a.js", {}, 200),
                 ("/missing.js", {}, 404), ("/app/manifest.json", {}, 200), ("/fail/", {}, 502)]
        pids, errors = set(), []
        lock = threading.Lock()

        def run(path, hdrs, want):
            for _ in range(n):
                s, h, _ = ng.request("GET", path, hdrs)
                with lock:
                    pids.add(h.get("X-Pid"))
                    if s != want:
                        errors.append((path, s))

        threads = [threading.Thread(target=run, args=k) for k in kinds for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:5]
        d = ng.status()["apps"]["app"]["deployments"]
        base, beta = d["base"], d["beta"]
        m = 2 * n  # two threads per kind
        want = {
            ("base", "entries"): 2 * m, ("beta", "entries"): m,
            ("base", "assets"): 2 * m, ("base", "manifests"): m, ("base", "asset404"): m,
        }
        got = {("base", k): base[k] for k in ("entries", "assets", "manifests", "asset404")}
        got[("beta", "entries")] = beta["entries"]
        assert got == want, f"{got} != {want}"
        st = base["status"]
        assert st["entry"] == {"2xx": m, "3xx": 0, "4xx": 0, "5xx": m}, st["entry"]
        assert st["asset"] == {"2xx": m, "3xx": 0, "4xx": m, "5xx": 0}, st["asset"]
        assert st["manifest"] == {"2xx": m, "3xx": 0, "4xx": 0, "5xx": 0}, st["manifest"]
        assert beta["status"]["entry"]["2xx"] == m
        assert d["gamma"]["entries"] == 0
        served_by = {p for p in pids if p} & {str(p) for p in workers(ng.proc.pid)}
        assert len(served_by) >= 2, f"only workers {served_by} served: not a multi-worker test"
        check_log(ng)
        return f"{6 * m} requests over {len(served_by)} workers, every counter exact"
    finally:
        ng.stop()


def t_promtool(args):
    ng = Nginx(args.nginx, args.module).start()
    try:
        ng.request("GET", "/")
        ng.patch({"pin": "v2"})
        s, h, body = ng.request("GET", "/gray/status", {"Accept": "text/plain"})
        assert s == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4"), (s, h)
        r = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
        out = (r.stdout + r.stderr).decode(errors="replace").strip()
        assert r.returncode == 0 and not out, f"promtool: rc {r.returncode}: {out}"
        return f"{len(body.splitlines())} lines, promtool silent"
    finally:
        ng.stop()


def t_prometheus(args):
    ng = Nginx(args.nginx, args.module).start()
    prom = None
    data = tempfile.mkdtemp(prefix="fg-prom-")
    try:
        for _ in range(7):
            ng.request("GET", "/", {"Cookie": "userid=u3"})
        port = free_port()
        with open(os.path.join(data, "prometheus.yml"), "w") as f:
            f.write(f"""global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: frontend_gray
    metrics_path: /gray/status
    params: {{format: [prometheus]}}
    static_configs: [{{targets: ["127.0.0.1:{ng.port}"]}}]
""")
        prom = subprocess.Popen(
            ["prometheus", "--config.file=" + os.path.join(data, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(data, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % port],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(port, prom, 30)
        q = 'frontend_gray_requests_total{app="app",deployment="gamma",version="v3",kind="entry",status="2xx"}'
        deadline, last = time.time() + 40, None
        while time.time() < deadline:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                c.request("GET", "/api/v1/query?query=" + urllib.parse.quote(q))
                doc = json.loads(c.getresponse().read())
            except (OSError, ValueError) as e:
                doc = {"error": repr(e)}
            finally:
                c.close()
            res = doc.get("data", {}).get("result", [])
            last = res
            if res and res[0]["value"][1] == "7":
                return f"Prometheus scraped {q} = 7"
            time.sleep(0.3)
        raise AssertionError(f"Prometheus never saw the counter at 7: last answer {last}")
    finally:
        if prom and prom.poll() is None:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        ng.stop()
        shutil.rmtree(data, ignore_errors=True)


def t_restart(args):
    extra = "frontend_gray_state state/gray.json;"
    ng = Nginx(args.nginx, args.module, extra_http=extra)
    os.makedirs(os.path.join(ng.prefix, "state"), exist_ok=True)
    ng.start()
    try:
        s, b = ng.patch({"pin": "v3", "deployments": {"beta": {"enabled": False}}})
        assert s == 200, (s, b)
        # the file is written before the answer
        with open(os.path.join(ng.prefix, "state/gray.json")) as f:
            st = json.load(f)
        assert st["apps"]["app"]["pin"] == "v3", st
        ng.stop()
        assert not [f for f in os.listdir(os.path.join(ng.prefix, "state")) if f.endswith(".tmp")]
        ng.start()
        s, _, body = ng.request("GET", "/")
        assert body == b"v3\n", body
        app = ng.status()["apps"]["app"]
        assert app["pinned"] == "v3" and app["deployments"]["beta"]["state"] == "disabled", app
        ng.patch({"pin": None})
        ng.stop()
        ng.start()
        s, _, body = ng.request("GET", "/")
        assert body == b"v1\n", body
        # a truncated file: a warning naming it, and nginx starts
        ng.stop()
        with open(os.path.join(ng.prefix, "state/gray.json"), "w") as f:
            f.write('{"apps": {"app": {"pin": "v')
        ng.start()
        s, _, body = ng.request("GET", "/")
        assert body == b"v1\n", body
        assert "state/gray.json\": EOF while parsing" in ng.error_log()
        check_log(ng)
        return "pin and enabled kept over a restart; a truncated file ignored with a warning"
    finally:
        ng.stop()


WRK_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  allowed = {}
  for v in string.gmatch(args[1], "[^,]+") do allowed[v] = true end
  bad, seen = 0, {}
end
function response(status, headers, body)
  local v = string.match(body or "", "^(v%d)")
  if status ~= 200 or not v or not allowed[v] then bad = bad + 1 else seen[v] = (seen[v] or 0) + 1 end
end
function done(summary, latency, requests)
  local b, s = 0, {}
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    for k, n in pairs(t:get("seen")) do s[k] = (s[k] or 0) + n end
  end
  local parts = {}
  for k, n in pairs(s) do table.insert(parts, k .. "=" .. n) end
  table.sort(parts)
  io.write(string.format("RESULT bad=%d errors=%d non2xx=%d requests=%d seen=%s\\n", b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests, table.concat(parts, ",")))
end
"""


def t_pin_load(args):
    ng = Nginx(args.nginx, args.module, workers_n=2).start()
    lua = os.path.join(ng.prefix, "check.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    stop = threading.Event()
    patches = []
    try:
        def flipper():
            pinned = False
            while not stop.is_set():
                pinned = not pinned
                s, _ = ng.patch({"pin": "v2" if pinned else None})
                patches.append(s)
                stop.wait(0.2)

        url = f"http://127.0.0.1:{ng.port}"
        d = str(args.duration)
        # entries without a user id: base (v1), or the pin (v2); never gamma's v3
        entry = subprocess.Popen(["wrk", "-t1", "-c8", "-d" + d + "s", "-s", lua, url + "/", "--", "v1,v2"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # assets with gamma's sticky cookie: always v3, pinned or not
        asset = subprocess.Popen(["wrk", "-t1", "-c8", "-d" + d + "s", "-s", lua, "-H", "Cookie: x-higress-tag=v3",
                                  url + "/a.js", "--", "v3"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        t = threading.Thread(target=flipper)
        t.start()
        outs = [p.communicate(timeout=args.duration + 30)[0].decode() for p in (entry, asset)]
        stop.set()
        t.join()
        results = []
        for name, out in zip(("entry", "asset"), outs):
            line = [ln for ln in out.splitlines() if ln.startswith("RESULT")]
            assert line, f"{name}: wrk printed no result: {out[-500:]}"
            kv = dict(x.split("=", 1) for x in line[0].split()[1:])
            assert kv["bad"] == "0" and kv["errors"] == "0" and kv["non2xx"] == "0", f"{name}: {line[0]}"
            results.append(f"{name} {kv['requests']} req ({kv['seen']})")
        assert "v1=" in results[0] and "v2=" in results[0], f"the pin never showed: {results[0]}"
        assert all(s == 200 for s in patches) and len(patches) >= args.duration * 3, (len(patches), set(patches))
        check_log(ng)
        return f"{len(patches)} PATCHes; " + "; ".join(results) + "; 0 errors"
    finally:
        stop.set()
        ng.stop()


def t_dashboard(args):
    here = os.path.dirname(os.path.abspath(__file__))
    pkg = os.path.join(here, "..", "browser", "package.json")
    if not os.path.isdir(os.path.join(here, "..", "browser", "node_modules", "playwright-core")):
        raise AssertionError("playwright-core is not installed: run tests/browser/run first")
    ng = Nginx(args.nginx, args.module).start()
    try:
        r = subprocess.run(["node", os.path.join(here, "dashboard.mjs"), f"http://127.0.0.1:{ng.port}",
                            os.path.abspath(pkg)], capture_output=True, text=True, timeout=120)
        out = r.stdout + r.stderr
        assert r.returncode == 0, out[-2000:]
        check_log(ng)
        return out.strip().splitlines()[-1]
    finally:
        ng.stop()


TESTS = [("exactness", t_exactness), ("promtool", t_promtool), ("prometheus", t_prometheus),
         ("restart", t_restart), ("pin-load", t_pin_load), ("dashboard", t_dashboard)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--label", default="")
    ap.add_argument("--n", type=int, default=int(os.environ.get("N", "100")))
    ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "20")))
    args = ap.parse_args()
    args.nginx, args.module = os.path.abspath(args.nginx), os.path.abspath(args.module)
    only = [x for x in args.only.split(",") if x]
    passed = failed = 0
    for name, fn in TESTS:
        if only and name not in only:
            continue
        t0 = time.time()
        try:
            what = fn(args)
            passed += 1
            print(f"ok - {args.label}{name}: {what} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the others still run
            failed += 1
            print(f"not ok - {args.label}{name}: {e!r}", flush=True)
    if not failed:
        for p in PREFIXES:
            shutil.rmtree(p, ignore_errors=True)
    print(f"status tests: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
