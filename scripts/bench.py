#!/usr/bin/env python3
"""Benchmark: nginx with frontend-gray against plain nginx and against sub_filter.

Run through scripts/bench (which installs wrk and builds). nginx instances on loopback, each
`worker_processes 1` pinned to core 0; wrk (keep-alive, bounded duration) pinned to core 1:

  plain   serves the final versioned files directly (sendfile): the physical limit, and the
          same files through proxy_pass from the origin (/proxy/)
  module  frontend_gray: decision, rewrite, cookies, injections (and variants: percentage mode,
          a rule of five conditions, status zone off, the entry proxied from the origin)
  sub     the builtin sub_filter doing the same injections and {version} replacement (C baseline)
  origin  plain nginx serving the files to the proxying fronts, pinned to core 1 with wrk: its
          CPU is not counted and it does not share the measured worker's core

Entry pages: an SPA index (30 KB and 300 KB, mostly script text and inline JSON) and a
tag-dense server-rendered page (30 KB and 300 KB: cards with a tag every ~13 bytes, a JSON state
blob, 30 script tags), each with head, body.first and body.last injections. The ratio is to the
workload's first row, measured in the same rounds: plain nginx sending the final file, or plain
nginx proxying it; the module's rows with a target from issue 13 say whether it is met.
Every contender gets the same request as the module's row (the gray user's cookie), since nginx
parses it whoever serves the file; "plain, no Cookie sent" shows that header's own cost.

Debian's defaults `sendfile on; tcp_nopush on;` are on everywhere. Each round runs every
contender five times (--runs), each for a fifth of the duration, alternating who goes first.
Every response is verified before timing. The figure that counts is the nginx worker's CPU
time per request (user+sys from /proc/PID/stat over requests served); req/s is shown too.
Every nginx runs with the same fixed glibc malloc thresholds (MALLOC).

The asset: nine tenths of the worker's CPU for a 100 KB file is the kernel's (sendfile and
loopback TCP, whose softirq work lands on whichever task is running), and that part moves by
~10 % from one wrk run to the next, for plain nginx against itself too. So the asset workload
has a second plain server as an A/A control (its ratio shows what the whole-CPU figure can
resolve), and its target is judged on the module's own work: plain's worker CPU per request
plus the module's extra user time, where all of the module's work is. That rests on the
module making the same system calls per request as plain nginx, which the bench checks with
strace before timing and prints.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from bench_tree import FIRST, HEAD, LAST, rs256_token, write_tree
from nginxproc import free_port, rss_kb, wait_listening, workers

TICK = os.sysconf("SC_CLK_TCK")
# the same fixed glibc malloc thresholds for every nginx: by default they move with what a
# process has freed (a freed block mapped by mmap raises both), so two nginx serving the same
# proxied page can settle one into giving its heap top back after each request and faulting it
# in again (twice the CPU per request), the other not
# the asset workload, judged on the module's own work (see above)
ASSET = "asset 100 KB (gray user)"
MALLOC = "glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=4194304"


def conf(kind, port, module, user, zone=True, origin=None):
    # the same proxy settings for every front that proxies: keep-alive to the origin, and
    # buffers that hold a 300 KB page in memory (no temporary file)
    upstream = "" if origin is None else f"""
    upstream origin {{ server 127.0.0.1:{origin}; keepalive 16; }}
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffer_size 16k;
    proxy_buffers 32 16k;
    proxy_busy_buffers_size 64k;
"""
    common = f"""{"load_module " + module + ";" if kind == "module" else ""}
{user}
worker_processes 1;
daemon off;
master_process on;
pid logs/{kind}.pid;
error_log logs/{kind}-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    {"" if zone else "frontend_gray_zone off;"}{upstream}
    server {{
        listen 127.0.0.1:{port} reuseport;
"""
    if kind == "plain":
        # /nosendfile/: the same files read into memory and written, as any body filter must
        body = "        location / { root html; }\n        location /nosendfile/ { alias html/; sendfile off; }\n"
        if origin is not None:  # /proxy/: the same files from the origin through proxy_pass
            body += "        location /proxy/ { proxy_pass http://origin/; }\n"
    elif kind == "origin":
        body = "        location / { root html; }\n"
    elif kind == "module" and origin is not None:  # the entry page from the origin
        body = """        location / { frontend_gray rules.yaml; proxy_pass http://origin; }
        location /gray/status { frontend_gray_status; }
"""
    elif kind == "module":
        body = """        location / { frontend_gray rules.yaml; root html; }
        location /gray/status { frontend_gray_status; }
"""
    else:  # sub_filter: the same page, injections and {version} by sub_filter
        body = f"""        location / {{
            root html;
            sub_filter_types text/html;
            sub_filter_once off;
            sub_filter '</head>' '{HEAD.replace("{version}", "gray")}</head>';
            sub_filter '<body>' '<body>{FIRST}';
            sub_filter '</body>' '{LAST.replace("{version}", "gray")}</body>';
            sub_filter '{{version}}' 'gray';
            add_header Cache-Control "no-cache, no-store, max-age=0, must-revalidate";
            add_header Set-Cookie "x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure";
        }}
"""
    return common + body + "    }\n}\n"


class Server:
    def __init__(self, nginx, prefix, kind, module, extra_yaml=None, zone=True, origin=None, core="0",
                 suffix=""):
        self.nginx, self.prefix, self.kind = nginx, prefix, kind
        self.port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        text = conf(kind, self.port, module, user, zone, origin)
        if extra_yaml:
            text = text.replace("rules.yaml", extra_yaml)
            self.kind = kind + "-" + extra_yaml.split(".")[0]
        if not zone:
            self.kind += "-nozone"
        if origin is not None and kind == "module":
            self.kind += "-proxy"
        self.kind += suffix
        self.conf = os.path.join(prefix, "conf", self.kind + ".conf")
        with open(self.conf, "w") as f:
            f.write(text.replace(f"logs/{kind}", f"logs/{self.kind}"))
        self.proc = subprocess.Popen(["taskset", "-c", core, nginx, "-p", prefix + "/", "-c", self.conf],
                                     stderr=subprocess.PIPE, env=dict(os.environ, GLIBC_TUNABLES=MALLOC))
        wait_listening(self.port, self.proc)
        self.worker = self.find_worker()

    def find_worker(self):
        for _ in range(100):
            w = workers(self.proc.pid)
            if w:
                return w[0]
            time.sleep(0.02)
        raise RuntimeError(f"no worker for {self.kind}")

    def cpu(self):
        """The worker's CPU time so far, and its user part (the rest is the kernel's)."""
        with open(f"/proc/{self.worker}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK, int(fields[11]) / TICK

    def rss_kb(self):
        return rss_kb(self.worker)

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def fetch(port, path, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def wrk(port, path, headers, duration, conns):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{int(round(duration))}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if non2xx or errors:
        raise RuntimeError(f"wrk saw errors on {path}: {out}")
    return reqs


def own(totals, wl, c, first):
    """The contender's extra user time per request over plain's (s), and its worker CPU per
    request with plain's kernel part as a ratio: plain's whole worker CPU plus that difference,
    over plain's (the module's work is all in user space)."""
    n, _, _, _, user = totals[(wl, c)]
    bn, bcpu, _, _, buser = totals[(wl, first)]
    extra = user / n - buser / bn
    return extra, 1 + extra / (bcpu / bn)


def spread(per):
    """Per-run ratios: all of them when few, else lowest, median, highest and their count."""
    if len(per) <= 5:
        return " ".join(f"{p:.2f}" for p in per)
    return f"{per[0]:.2f} … {per[len(per) // 2]:.2f} … {per[-1]:.2f} ({len(per)} runs)"


def syscalls(server, path, headers, seconds=2):
    """The worker's system calls per request, by name, while wrk -c1 asks for `path`."""
    out = os.path.join(server.prefix, "logs", server.kind + ".strace")
    st = subprocess.Popen(["strace", "-c", "-q", "-p", str(server.worker), "-o", out])
    for _ in range(500):  # until strace is attached
        with open(f"/proc/{server.worker}/status") as f:
            if re.search(r"TracerPid:\s*[1-9]", f.read()):
                break
        time.sleep(0.01)
    n = wrk(server.port, path, headers, seconds, 1)
    st.send_signal(signal.SIGINT)
    st.wait(10)
    calls = {}
    with open(out) as f:
        for line in f:
            w = line.split()
            if len(w) in (5, 6) and w[-1] != "total" and w[3].isdigit():
                calls[w[-1]] = int(w[3]) / n
    # epoll_wait and friends wake per event batch, not per request: rounded to a tenth
    return {k: round(v, 1) for k, v in calls.items()}


def totals_wl(totals):
    return {wl for wl, _ in totals}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5,
                    help="each contender runs this many times per round, each for duration / runs "
                         "(the same time in all): more pairs to average the kernel's run-to-run "
                         "moods over")
    ap.add_argument("--only", action="append", default=[],
                    help="run only the workloads whose name contains this (repeatable)")
    a = ap.parse_args()
    a.nginx, a.module = os.path.abspath(a.nginx), os.path.abspath(a.module)  # nginx runs with -p <tmp>
    runs = max(1, a.runs)
    run_s = max(1, round(a.duration / runs))  # each run's length: the round's time shared out
    if shutil.which("wrk") is None:
        sys.exit("wrk not found")

    # a SIGTERM (timeout, kill) still stops every nginx started here
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    prefix = tempfile.mkdtemp(prefix="fg-bench-")
    for d in ("conf", "logs", "html"):
        os.makedirs(os.path.join(prefix, d))
    write_tree(prefix)
    gray = {"Cookie": "userid=00000002"}
    cond_user = {"X-Canary": "1", "X-Plan": "gold", "Authorization": "Bearer " + rs256_token({"role": "beta-tester"}),
                 "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
                               "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"}
    asset_cookie = {"Cookie": "x-higress-tag=gray"}
    servers = {}
    origin = None
    # workload → contender → (server, path, headers, verify); plain nginx gets the request the
    # module gets (the user's cookie: nginx parses it whoever serves the file), so the ratio is
    # the module's cost alone; "plain, no Cookie sent" shows what the header costs nginx itself
    inj = lambda b: (b"window.__GRAY__" in b and b'gray-banner' in b and b"{version}" not in b
                     and re.search(rb'console\.debug\("gray (base|gray)"\)</script>\s*</body>', b))
    ssr = lambda size: lambda s, h, b: (inj(b) and b'content="gray"' in b and len(b) > size
                                        and b'<div class="card">' in b and b'id="__STATE__"' in b
                                        and "x-higress-tag=gray" in h.get("Set-Cookie", ""))
    ssr_plain = lambda size: lambda s, h, b: b"{version}" in b and len(b) > size and b'id="__STATE__"' in b
    workloads = {
        ASSET: {
            "plain": ("plain", "/mfe/app1/gray/js/app.js", asset_cookie, lambda s, h, b: len(b) == 100 * 1024),
            "plain, a second server (A/A)": ("plain2", "/mfe/app1/gray/js/app.js", asset_cookie, lambda s, h, b: len(b) == 100 * 1024),
            "module": ("module", "/app1/js/app.js", asset_cookie, lambda s, h, b: len(b) == 100 * 1024),
            "module, status zone off": ("module-nozone", "/app1/js/app.js", asset_cookie, lambda s, h, b: len(b) == 100 * 1024),
        },
        "entry 30 KB (gray user)": {
            "plain": ("plain", "/mfe/app1/gray/index.html", gray, lambda s, h, b: b"{version}" in b),
            "plain, no Cookie sent": ("plain", "/mfe/app1/gray/index.html", {}, lambda s, h, b: b"{version}" in b),
            "plain, sendfile off": ("plain", "/nosendfile/mfe/app1/gray/index.html", gray, lambda s, h, b: b"{version}" in b),
            "module": ("module", "/app1", gray, lambda s, h, b: inj(b) and b'content="gray"' in b and "x-higress-tag=gray" in h.get("Set-Cookie", "")),
            "module, status zone off": ("module-nozone", "/app1", gray, lambda s, h, b: inj(b) and b'content="gray"' in b),
            "sub_filter": ("sub_filter", "/mfe/app1/gray/index.html", gray, lambda s, h, b: inj(b) and b'content="gray"' in b),
        },
        "entry 30 KB, rule of 5 conditions incl. RS256 JWT": {
            "plain": ("plain", "/mfe/app1/gray/index.html", gray, lambda s, h, b: b"{version}" in b),
            "module, allow-list rule": ("module", "/app1", gray, lambda s, h, b: inj(b) and b'content="gray"' in b),
            "module, 5 conditions": ("module-cond", "/app1", cond_user, lambda s, h, b: inj(b) and b'content="gray"' in b),
        },
        "entry 300 KB (gray user)": {
            "plain": ("plain", "/mfe/app1/gray/big.html", gray, lambda s, h, b: len(b) > 300_000),
            "plain, sendfile off": ("plain", "/nosendfile/mfe/app1/gray/big.html", gray, lambda s, h, b: len(b) > 300_000),
            "module": ("module", "/big", gray, lambda s, h, b: inj(b) and b'content="gray"' in b),
            "sub_filter": ("sub_filter", "/mfe/app1/gray/big.html", gray, lambda s, h, b: inj(b)),
        },
        "SSR entry 30 KB, tag-dense (gray user)": {
            "plain": ("plain", "/mfe/app1/gray/ssr-small.html", gray, ssr_plain(30_000)),
            "module": ("module", "/ssr-small", gray, ssr(30_000)),
        },
        "SSR entry 300 KB, tag-dense (gray user)": {
            "plain": ("plain", "/mfe/app1/gray/ssr.html", gray, ssr_plain(300_000)),
            "plain, sendfile off": ("plain", "/nosendfile/mfe/app1/gray/ssr.html", gray, ssr_plain(300_000)),
            "module": ("module", "/ssr-big", gray, ssr(300_000)),
        },
        "SSR entry 300 KB via proxy_pass (gray user)": {
            "plain proxy_pass": ("plain", "/proxy/mfe/app1/gray/ssr.html", gray, ssr_plain(300_000)),
            "module": ("module-proxy", "/ssr-big", gray, ssr(300_000)),
        },
        "new user, percentage mode": {
            "plain": ("plain", "/mfe/app1/gray/index.html", {}, lambda s, h, b: s == 200),
            "module": ("module-pct", "/app1", {}, lambda s, h, b: inj(b) and "x-higress-uid=" in h["Set-Cookie"] and "x-higress-tag=" in h["Set-Cookie"]),
        },
    }
    if a.only:
        workloads = {k: v for k, v in workloads.items() if any(o in k for o in a.only)}
        if not workloads:
            sys.exit("no workload matches --only")
    # the targets (issue 13): worker CPU per request of the module against the workload's first row
    targets = {
        (ASSET, "module"): 1.02,
        ("entry 30 KB (gray user)", "module"): 1.15,
        ("SSR entry 300 KB, tag-dense (gray user)", "module"): 1.3,
        ("new user, percentage mode", "module"): 1.2,
        ("SSR entry 300 KB via proxy_pass (gray user)", "module"): 1.5,
    }
    try:
        # the origin of the proxied rows: its own nginx on core 1 (with wrk), so that only the
        # front worker's CPU is counted (and the front's core is not shared)
        origin = Server(a.nginx, prefix, "origin", a.module, core="1")
        servers["plain"] = Server(a.nginx, prefix, "plain", a.module, origin=origin.port)
        servers["plain2"] = Server(a.nginx, prefix, "plain", a.module, suffix="2")
        servers["module-proxy"] = Server(a.nginx, prefix, "module", a.module, origin=origin.port)
        servers["module"] = Server(a.nginx, prefix, "module", a.module)
        servers["sub_filter"] = Server(a.nginx, prefix, "sub", a.module)
        servers["module-pct"] = Server(a.nginx, prefix, "module", a.module, "pct.yaml")
        servers["module-cond"] = Server(a.nginx, prefix, "module", a.module, "cond.yaml")
        servers["module-nozone"] = Server(a.nginx, prefix, "module", a.module, zone=False)
        for wl, cs in workloads.items():
            for c, (srv, path, hdrs, verify) in cs.items():
                st, h, b = fetch(servers[srv].port, path, hdrs)
                hs = dict(h.items())
                hs["Set-Cookie"] = " ".join(h.get_all("Set-Cookie") or [])
                if st != 200 or not verify(st, hs, b):
                    raise SystemExit(f"verification failed: {wl} / {c}: status {st}, {len(b)} bytes, headers {h}")
        print(f"verified every response; {a.rounds} rounds x {runs} runs x "
              f"{run_s} s per contender and workload, "
              f"wrk -c{a.conns} on core 1, nginx worker on core 0", flush=True)

        syscalls_seen = {}
        if ASSET in workloads:
            for c in ("plain", "module"):
                srv, path, hdrs, _ = workloads[ASSET][c]
                syscalls_seen[c] = syscalls(servers[srv], path, hdrs)
        totals = {}
        rss0 = {k: s.rss_kb() for k, s in servers.items()}

        def measure(wl, order, duration):
            for c, (srv, path, hdrs, _) in order:
                s = servers[srv]
                cpu0, user0 = s.cpu()
                t0 = time.time()
                n = wrk(s.port, path, hdrs, duration, a.conns)
                dt = time.time() - t0
                cpu, user = (x - x0 for x, x0 in zip(s.cpu(), (cpu0, user0)))
                t = totals.setdefault((wl, c), [0, 0.0, 0.0, [], 0.0])
                t[0] += n
                t[1] += cpu
                t[2] += dt
                t[3].append(cpu / n)
                t[4] += user

        for rnd in range(a.rounds):
            for wl, cs in workloads.items():
                for rep in range(runs):
                    order = list(cs.items())
                    if (rnd * runs + rep) % 2:
                        order.reverse()  # alternate who goes first
                    measure(wl, order, run_s)
            print(f"round {rnd + 1}/{a.rounds} done", flush=True)

        print()
        # the ratio is to the workload's first row: plain nginx serving the final file by sendfile,
        # or plain nginx proxying it for the proxied workload, measured in the same rounds
        # "per run": the ratio within each run (the two measured seconds apart), lowest,
        # median and highest, to tell a row's cost from the machine's moods; the target is
        # judged on the ratio of the totals (the asset's on the module's own work, below)
        # "user": the worker's CPU in user space, where all of the module's own work is (it
        # makes the system calls nginx makes for the same response); the kernel's part, most of
        # the total, moves with loopback TCP and lock contention between the two cores
        print("| workload | contender | req/s | worker CPU µs/req | user µs/req | ratio to plain | per run | target |")
        print("|---|---|---:|---:|---:|---:|---|---|")
        for wl, cs in workloads.items():
            base = totals[(wl, next(iter(cs)))]
            base_us = base[1] / base[0] * 1e6
            for c in cs:
                n, cpu, dt, rounds, user = totals[(wl, c)]
                us = cpu / n * 1e6
                ratio = us / base_us
                per = sorted(r / b for r, b in zip(rounds, base[3]))
                t = targets.get((wl, c))
                if t is not None and wl == ASSET:
                    # judged on the module's own work (below): the kernel's part is the same
                    # work for both, and moves more between runs than the whole target
                    o = own(totals, wl, c, next(iter(cs)))[1]
                    mark = f"≤ {t:.2f}x {'met' if o <= t else 'UNMET'} (own work {o:.3f}x, below)"
                else:
                    mark = "" if t is None else f"≤ {t:.2f}x {'met' if ratio <= t else 'UNMET'}"
                print(f"| {wl} | {c} | {n / dt:,.0f} | {us:.1f} | {user / n * 1e6:.1f} | {ratio:.2f}x | "
                      f"{spread(per)} | {mark} |")
        print()
        if ASSET in totals_wl(totals):
            wl = ASSET
            first = next(iter(workloads[wl]))
            print(f"{wl}, the module's own work: worker user time per request over plain's, added to "
                  f"plain's whole worker CPU per request (the system calls are the same, see below):")
            for c in workloads[wl]:
                if c != first:
                    bn, bcpu = totals[(wl, first)][:2]
                    extra, ratio = own(totals, wl, c, first)
                    print(f"  {c}: {extra * 1e6:+.2f} µs user of plain's {bcpu / bn * 1e6:.1f} µs "
                          f"-> {ratio:.3f}x")
            for c, calls in syscalls_seen.items():
                print(f"  system calls per request (strace -c, wrk -c1), {c}: " +
                      ", ".join(f"{k} {v:.2f}" for k, v in sorted(calls.items())))
            same = len({tuple(sorted(v.items())) for v in syscalls_seen.values()}) == 1
            print("  the same system calls for each" if same else "  THE SYSTEM CALLS DIFFER")
        print()
        # the status zone's cost: the module with its counters against the same module without
        for wl in [w for w in (ASSET, "entry 30 KB (gray user)") if w in totals_wl(totals)]:
            on, off = totals[(wl, "module")], totals[(wl, "module, status zone off")]
            print(f"status zone, {wl}: {(on[1] / on[0]) / (off[1] / off[0]) * 100 - 100:+.1f} % worker CPU per request")
        _, _, st = fetch(servers["module"].port, "/gray/status", {})
        deps = json.loads(st)["apps"]["rules"]["deployments"]
        print("counted by the status zone during the run: " + ", ".join(
            f"{n} {d['version']}: {d['entries']} entries, {d['assets']} assets" for n, d in deps.items()))
        print()
        print("worker RSS (kB) before -> after: " + ", ".join(
            f"{k} {rss0[k]} -> {s.rss_kb()}" for k, s in servers.items()))
    finally:
        for s in servers.values():
            s.stop()
        if origin is not None:
            origin.stop()
        # a warning in any error log (an upstream response buffered to a temporary file, say)
        # means a row measured something else than it says
        logs = os.path.join(prefix, "logs")
        for name in sorted(os.listdir(logs)) if os.path.isdir(logs) else []:
            if name.endswith("-error.log"):
                with open(os.path.join(logs, name), errors="replace") as f:
                    lines = [l for l in f if "[notice]" not in l]
                if lines:
                    print(f"{name}: {len(lines)} lines, first: {lines[0].strip()}")
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
