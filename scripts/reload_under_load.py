#!/usr/bin/env python3
"""Reload under load: wrk drives the entry page and an asset while `nginx -s reload` runs every
2 s, alternating two YAML files that put the same user on different versions, one reload with a
broken YAML. Passes when there were 0 non-2xx answers, 0 socket errors, no crashed worker, and
every answer carried a version of one of the two generations.

    scripts/reload-under-load [--duration 60]      (through the wrapper: installs wrk, builds)
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from nginxproc import free_port, wait_listening

GEN = """grayKey: userid
rules:
  - name: beta
    grayKeyValue: ['00000002']
baseDeployment: {version: base}
grayDeployments:
  - {name: beta, version: %s, enabled: true}
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}'}
injection:
  head: ['<meta name="v" content="{version}">']
"""
BROKEN = "grayKey: userid\nrules: [unclosed\n"

LUA = r"""
local paths = {"/app1", "/app1/js/app.js"}
local n = 0
counts = {}
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % 2 + 1], {["Cookie"] = "userid=00000002", ["Connection"] = CONNECTION})
end
response = function(status, headers, body)
  local v = headers["X-Gray-Version"] or ""
  counts[v] = (counts[v] or 0) + 1
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("VERSION %s %d\n", k, v)) end
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--keepalive", action="store_true",
                    help="keep connections open: shows nginx's own race when a reload closes idle "
                         "keep-alive connections that a client is just reusing (with or without the module)")
    ap.add_argument("--off", action="store_true", help="frontend_gray off: the same load without the module acting")
    a = ap.parse_args()

    prefix = tempfile.mkdtemp(prefix="fg-reload-")
    for d in ("conf", "logs"):
        os.makedirs(os.path.join(prefix, d))
    for v in ("base", "gray-a", "gray-b"):
        d = os.path.join(prefix, "html/mfe/app1", v, "js")
        os.makedirs(d)
        with open(os.path.join(d, "../index.html"), "w") as f:
            f.write("<html><head></head><body>%s {version}</body></html>\n" % v)
        with open(os.path.join(d, "app.js"), "w") as f:
            f.write("var v = '%s';\n" % v)
    port = free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    with open(os.path.join(prefix, "conf/nginx.conf"), "w") as f:
        f.write(f"""load_module {os.path.abspath(a.module)};
{user}
worker_processes 2;
pid logs/nginx.pid;
error_log logs/error.log notice;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            frontend_gray gray.yaml;
            root html;
            add_header X-Gray-Version $gray_version always;
        }}
    }}
}}
""")
    yaml_path = os.path.join(prefix, "conf/gray.yaml")
    with open(yaml_path, "w") as f:
        f.write(GEN % "gray-a")
    with open(os.path.join(prefix, "load.lua"), "w") as f:
        f.write('CONNECTION = "%s"\n' % ("keep-alive" if a.keepalive else "close") + LUA)
    if a.off:
        with open(os.path.join(prefix, "conf/nginx.conf")) as f:
            text = f.read().replace("frontend_gray gray.yaml;", "frontend_gray off; rewrite ^/app1$ /mfe/app1/gray-a/index.html break; rewrite ^/app1/(.*)$ /mfe/app1/gray-a/$1 break;")
        with open(os.path.join(prefix, "conf/nginx.conf"), "w") as f:
            f.write(text)

    cmd = [a.nginx, "-p", prefix + "/", "-c", "conf/nginx.conf"]
    # a refused reload's [emerg] goes to the master's stderr where nginx was built with
    # --error-log-path=stderr (Debian), to the error log otherwise
    master_err = open(os.path.join(prefix, "logs/master.stderr"), "w")
    proc = subprocess.Popen(cmd, stderr=master_err)
    try:
        wait_listening(port, proc)
        wrk = subprocess.Popen(["wrk", "-t2", "-c32", f"-d{a.duration}s", "-s", os.path.join(prefix, "load.lua"),
                                f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, text=True)
        reloads, broken_at = 0, max(1, int(a.duration / a.interval) // 2)
        signaller_refused = False
        t_end = time.time() + a.duration - a.interval
        while time.time() < t_end:
            time.sleep(a.interval)
            reloads += 1
            if reloads == broken_at:
                text = BROKEN
            else:
                text = GEN % ("gray-b" if reloads % 2 else "gray-a")
            with open(yaml_path + ".tmp", "w") as f:
                f.write(text)
            os.replace(yaml_path + ".tmp", yaml_path)
            r = subprocess.run(cmd + ["-s", "reload"], capture_output=True, text=True)
            if reloads == broken_at:
                # `nginx -s reload` parses the configuration before signalling: it must refuse
                signaller_refused = r.returncode != 0 and "frontend_gray" in r.stderr
                # a bare SIGHUP (kill -HUP): the master itself must refuse and keep serving
                proc.send_signal(signal.SIGHUP)
        out, _ = wrk.communicate()
    finally:
        proc.terminate()
        proc.wait(15)

    master_err.close()
    log = ""
    for name in ("logs/error.log", "logs/master.stderr"):
        with open(os.path.join(prefix, name), errors="replace") as f:
            log += f.read()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: (.*)", out)
    versions = {m.group(1): int(m.group(2)) for m in re.finditer(r"VERSION (\S+) (\d+)", out)}
    crashes = len(re.findall(r"exited on signal|\[alert\]|\[crit\]|panicked", log))
    # the master's own refusal (the `-s reload` signaller logs one too where the default error
    # log is a file)
    refused = len(re.findall(r"\[emerg\] %d#\d+: .*frontend_gray" % proc.pid, log))
    print(f"{a.duration} s, {reloads} reloads (#{broken_at} with a broken YAML), {requests} requests")
    print(f"non-2xx: {non2xx}; socket errors: {sock.group(1) if sock else 0}; worker crashes/alerts: {crashes}; "
          f"broken YAML refused by `nginx -s reload`: {signaller_refused}, by the master on SIGHUP: {refused == 1}")
    print("versions served: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    expected = {""} if a.off else {"gray-a", "gray-b"}
    ok = (non2xx == 0 and not sock and crashes == 0 and ((refused == 1 and signaller_refused) or a.off)
          and versions and set(versions) <= expected and requests > 0)
    shutil.rmtree(prefix, ignore_errors=True)
    print("reload under load: " + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
