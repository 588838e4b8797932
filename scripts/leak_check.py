#!/usr/bin/env python3
"""Per-request leak check: the nginx worker's RSS after 1,000 requests and after 100,000 more,
over a mix of every path the module has (entry with injections, new users in percentage mode,
sticky assets, the inline 404 entry, a skipped path). Equal RSS means nothing leaks per request.
Every answer must be a 200 (each path of the mix has one), with no socket error and no [error]
or worse line in the error log beyond the inline entry's own open() miss: a worker that fails
requests fast would otherwise look leak-free.
    scripts/leak-check   (wrapper: builds, installs wrk)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from nginxproc import free_port, rss_kb, wait_listening, workers

LUA = r"""
local paths = {
  {"/app1", "userid=00000002"}, {"/app1", ""}, {"/app1/js/app.js", "x-higress-tag=gray"},
  {"/missing", ""}, {"/api/x", ""}, {"/pct/app1", ""},
}
local n = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; first = "" end
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if first == "" then first = tostring(status) end
  end
end
function done(summary, latency, requests)
  local total, firsts = 0, ""
  for _, t in ipairs(threads) do total = total + t:get("bad"); firsts = firsts .. t:get("first") end
  io.write(string.format("non-200 answers: %d (first: %s)\n", total, firsts))
end
request = function()
  n = n + 1
  local p = paths[n % #paths + 1]
  return wrk.format("GET", p[1], {["Cookie"] = p[2]})
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    a = ap.parse_args()
    prefix = tempfile.mkdtemp(prefix="fg-leak-")
    for d in ("conf", "logs", "html/mfe/app1/base/js", "html/mfe/app1/gray/js", "html/api"):
        os.makedirs(os.path.join(prefix, d))
    with open(f"{prefix}/html/api/x", "w") as f:
        f.write("skipped path, served as it is")
    for v in ("base", "gray"):
        with open(f"{prefix}/html/mfe/app1/{v}/index.html", "w") as f:
            f.write("<html><head><title>{version}</title></head><body>" + "<p>{version}</p>" * 500 + "</body></html>")
        with open(f"{prefix}/html/mfe/app1/{v}/js/app.js", "w") as f:
            f.write("var v='%s';" % v)
    common = """grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
baseDeployment: {version: base}
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}'}
html: '<html><head></head><body>inline {version}</body></html>'
skippedPaths: ['/api/**']
injection:
  head: ['<meta v={version}>']
  body: {first: ['<b>f</b>'], last: ['<b>l</b>']}
  globalConfig: {enabled: true, value: '{"r": "{version}"}'}
"""
    with open(f"{prefix}/conf/rules.yaml", "w") as f:
        f.write(common + "grayDeployments: [{name: beta, version: gray, enabled: true}]\n")
    with open(f"{prefix}/conf/pct.yaml", "w") as f:
        f.write(common.replace("/app1:", "/pct/app1:") + "grayDeployments: [{name: beta, version: gray, enabled: true, weight: 50}]\n")
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    with open(f"{prefix}/conf/nginx.conf", "w") as f:
        f.write(f"""load_module {os.path.abspath(a.module)};
{user} worker_processes 1; daemon off; pid logs/nginx.pid; error_log logs/error.log warn;
events {{ worker_connections 256; }}
http {{ access_log off;
  server {{ listen 127.0.0.1:{port};
    location / {{ frontend_gray rules.yaml; root html; }}
    location /pct/ {{ frontend_gray pct.yaml; root html; }}
  }}
}}""")
    proc = subprocess.Popen([a.nginx, "-p", prefix + "/", "-c", "conf/nginx.conf"])
    try:
        wait_listening(port, proc)
        worker = workers(proc.pid)[0]

        def rss():
            return rss_kb(worker)

        script = os.path.join(prefix, "mix.lua")
        with open(script, "w") as f:
            f.write(LUA)

        problems = []

        def load(seconds):
            out = subprocess.run(["wrk", "-t1", "-c4", f"-d{seconds}s", "-s", script, f"http://127.0.0.1:{port}/"],
                                 capture_output=True, text=True).stdout
            bad = re.search(r"non-200 answers: (\d+)", out)
            if not bad or bad.group(1) != "0":
                problems.append(f"wrk: {bad.group(0) if bad else 'no status count'}")
            for line in out.split("\n"):
                if "Socket errors" in line or "Non-2xx" in line:
                    problems.append(f"wrk: {line.strip()}")
            return int(re.search(r"(\d+) requests in", out).group(1))

        # about 1k requests, then twice more than 100k
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(1000):
            path = ["/app1", "/app1/js/app.js", "/missing", "/pct/app1", "/api/x"][i % 5]
            c.request("GET", path, headers={"Cookie": "userid=00000002" if i % 8 == 0 else ""})
            resp = c.getresponse()
            resp.read()
            if resp.status != 200 and len(problems) < 5:
                problems.append(f"GET {path}: status {resp.status}")
        n1 = 1000
        r1 = rss()
        n2 = load(8)
        r2 = rss()
        n3 = load(8)
        r3 = rss()
    finally:
        proc.terminate()
        proc.wait(10)
        with open(f"{prefix}/logs/error.log", errors="replace") as f:
            for line in f:
                if re.search(r"\[(error|crit|alert|emerg)\]|panicked|exited on signal", line) and \
                        not re.search(r'\[error\] .*open\(\) "[^"]*/html/missing" failed', line):
                    if len(problems) < 10:
                        problems.append(f"error log: {line.strip()[:200]}")
        shutil.rmtree(prefix, ignore_errors=True)
    print(f"worker RSS after {n1} requests: {r1} kB; after {n1 + n2}: {r2} kB; after {n1 + n2 + n3}: {r3} kB")
    for p in problems:
        print(f"    # {p}")
    ok = r3 - r2 <= 64 and not problems  # no growth between the second and third 100k (a few pages of allocator noise)
    print("leak check: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
