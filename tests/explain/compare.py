#!/usr/bin/env python3
"""`frontend-gray explain` answers what nginx does: the same generated requests go to a real
nginx with the module and to `explain --json`, and the deployment, version, $gray_reason,
rewritten URI and Set-Cookie lines must be equal.

    tests/explain/compare.py --nginx BIN --module SO --cli target/release/frontend-gray [-n 300]

Two configurations (rule mode with every condition kind the command can be told about, and
percentage mode with several weighted versions); requests vary path kind, cookies, headers,
client address (through realip), query arguments, User-Agent and a `map` variable. Ends with
`explain: N passed, M failed` (one count per configuration).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from nginxproc import free_port, wait_listening  # noqa: E402

RULES = """
grayKey: userid
graySubKey: uid
uniqueGrayTag: x-uid
backendGrayTag: x-mse-tag
rules:
- name: listed
  grayKeyValue: ['00000001', '00000002']
  grayTagKey: level
  grayTagValue: [gold]
- name: canary
  match:
  - header: {name: X-Canary, values: ['true', '1']}
  - query: {name: canary, regex: '^(yes|1)$'}
- name: office
  match:
  - ip: ['10.0.0.0/8', '2001:db8::/32']
  - cookie: {name: plan, values: [pro, team]}
- name: mobile
  match:
  - os: [ios, android]
- name: tier
  match:
  - variable: {name: plan_tier, values: [gold]}
  - userId: ['00000009']
baseDeployment: {version: base, backendVersion: b1}
grayDeployments:
- {name: listed, version: v-listed, enabled: true, backendVersion: b2}
- {name: canary, version: v-canary, enabled: true}
- {name: office, version: v-office, enabled: true, versionPredicates: {/app1/: v-app1}}
- {name: mobile, version: v-mobile, enabled: true}
- {name: tier, version: v-tier, enabled: true}
- {name: off, version: v-off, enabled: false}
preview: {header: X-Gray-Version, query: gray_version, allow: ['10.0.0.0/8']}
indexPaths: ['/**/manifest.json']
skippedPaths: ['/api/**']
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html', /app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/: '/mfe/{version}', /app2: '/mfe/app2/{version}'}
"""

PERCENT = """
uniqueGrayTag: x-uid
rules:
- name: a
  grayKeyValue: [u1]
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: v-a, enabled: true, weight: 20}
- {name: b, version: v-b, enabled: true, weight: 30}
- {name: c, version: v-c, enabled: true, weight: 0}
indexPaths: ['/**/manifest.json']
useManifestAsEntry: true
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  fileRouting: {/: '/mfe/{version}'}
"""

UAS = [
    "",
    "curl/8.5.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
]
PATHS = ["/", "/app1", "/app1/page", "/x/index.html", "/js/a.js", "/app1/js/a.js", "/app2/x.css",
         "/app2../x.js", "/api/users", "/app1/manifest.json", "/manifest.json", "/img/logo.png",
         "/a/../b.js", "//double//slash.js"]


def request(rnd, mode):
    path = rnd.choice(PATHS)
    query = []
    if rnd.random() < 0.3:
        query.append("canary=" + rnd.choice(["yes", "1", "no", "yes%20"]))
    if rnd.random() < 0.15:
        query.append("gray_version=" + rnd.choice(["v-off", "v-canary", "base", "nope"]))
    cookies = []
    if rnd.random() < 0.4:
        u = rnd.choice(["00000001", "00000002", "00000009", "00000005"])
        cookies.append("userid=" + (rnd.choice([u, "%7B%22uid%22%3A%22" + u + "%22%7D"])))
    if rnd.random() < 0.2:
        cookies.append("level=" + rnd.choice(["gold", "silver"]))
    if rnd.random() < 0.3:
        cookies.append("plan=" + rnd.choice(["pro", "team", "free"]))
    if rnd.random() < 0.4:
        cookies.append("x-higress-tag=" + rnd.choice(["v-a", "v-b", "base", "v-canary", "v-off", "bogus"]))
    if mode == "percent" or rnd.random() < 0.3:
        if rnd.random() < 0.8:
            cookies.append("x-uid=" + "".join(rnd.choice("0123456789abcdef") for _ in range(16)))
    headers = {}
    if rnd.random() < 0.3:
        headers["X-Canary"] = rnd.choice(["true", "1", "false"])
    if rnd.random() < 0.15:
        headers["X-Gray-Version"] = rnd.choice(["v-off", "v-listed", "nope"])
    if rnd.random() < 0.3:
        headers["X-Plan"] = rnd.choice(["gold-annual", "silver"])
    ip = rnd.choice(["127.0.0.1", "10.1.2.3", "2001:db8::7", "192.0.2.1"])
    headers["X-Real-IP"] = ip
    ua = rnd.choice(UAS)
    if ua:
        headers["User-Agent"] = ua
    return path, "&".join(query), cookies, headers, ip, ua


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    passed = failed = 0
    for mode, yaml_text in (("rules", RULES), ("percent", PERCENT)):
        bad = run_mode(a, mode, yaml_text)
        if bad:
            failed += 1
            print(f"not ok - explain = nginx, {mode} mode: {len(bad)} of {a.n} requests differ")
            for b in bad[:5]:
                print("    # " + b)
        else:
            passed += 1
            print(f"ok - explain = nginx, {mode} mode: {a.n} requests")
    print(f"explain: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def run_mode(a, mode, yaml_text):
    rnd = random.Random(f"{a.seed}-{mode}")
    prefix = tempfile.mkdtemp(prefix="fg-explain-")
    os.makedirs(f"{prefix}/conf")
    os.makedirs(f"{prefix}/logs")
    with open(f"{prefix}/conf/gray.yaml", "w") as f:
        f.write(yaml_text)
    port = free_port()
    with open(f"{prefix}/conf/nginx.conf", "w") as f:
        f.write(f"""load_module {os.path.abspath(a.module)};
error_log logs/error.log notice;
pid logs/nginx.pid;
events {{}}
http {{
    access_log off;
    map $http_x_plan $plan_tier {{ default none; gold-annual gold; }}
    server {{
        listen 127.0.0.1:{port};
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        location / {{
            frontend_gray gray.yaml;
            root html;
            try_files $uri @seen;
        }}
        location @seen {{
            add_header X-Seen "$gray_deployment|$gray_version|$gray_reason|$uri" always;
            return 200 "ok";
        }}
    }}
}}
""")
    proc = subprocess.Popen([a.nginx, "-p", prefix, "-c", "conf/nginx.conf", "-g", "daemon off;"],
                            stderr=subprocess.PIPE)
    bad = []
    try:
        wait_listening(port, proc)
        for i in range(a.n):
            path, query, cookies, headers, ip, ua = request(rnd, mode)
            target = path + ("?" + query if query else "")
            h = dict(headers)
            if cookies:
                h["Cookie"] = "; ".join(cookies)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", target, headers=h)
            resp = c.getresponse()
            resp.read()
            seen = resp.getheader("X-Seen")
            status = resp.status
            set_cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
            c.close()
            cmd = [a.cli, "explain", f"{prefix}/conf/gray.yaml", "--path", path, "--ip", ip, "--json"]
            if query:
                cmd += ["--query", query]
            if cookies:
                cmd += ["--cookie", "; ".join(cookies)]
            for k, v in headers.items():
                if k not in ("X-Real-IP", "User-Agent"):
                    cmd += ["--header", f"{k}: {v}"]
            if ua:
                cmd += ["--user-agent", ua]
            tier = {"gold-annual": "gold"}.get(headers.get("X-Plan", ""), "none")
            if "plan_tier" in yaml_text:
                cmd += ["--var", f"plan_tier={tier}"]
            out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            if not out.get("acted"):
                want_seen = "|||" + clean(path)
                want_status, want_cookies = 200, []
            else:
                want_seen = f"{out['deployment']}|{out['version']}|{out['reason']}|{out['uri']}"
                want_status = out["status"] or 200
                want_cookies = out["setCookie"]
            got_cookies = set_cookies
            if out.get("acted") and out.get("uid") and not any("x-uid=" in x for x in cookies):
                # a new uid is random: compare its shape, then the rest with nginx's uid
                want_cookies = [x.replace(out["uid"], "<uid>") for x in want_cookies]
                got_cookies = [redact_uid(x) for x in set_cookies]
                if out["reason"] == "weight":
                    want_seen, seen = strip_version(want_seen), strip_version(seen or "")
                    want_cookies = [redact_version(x) for x in want_cookies]
                    got_cookies = [redact_version(x) for x in got_cookies]
            problems = []
            if status != want_status:
                problems.append(f"status {status} != {want_status}")
            if want_status == 200 and seen != want_seen:
                problems.append(f"nginx {seen!r} != explain {want_seen!r}")
            if want_status == 200 and got_cookies != want_cookies:
                problems.append(f"cookies {got_cookies} != {want_cookies}")
            if problems:
                bad.append(f"GET {target} cookies={cookies} headers={headers}: " + "; ".join(problems))
    finally:
        proc.terminate()
        proc.wait(10)
    if not bad:
        shutil.rmtree(prefix, ignore_errors=True)
    return bad


def clean(path):
    out = []
    for seg in path.split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return "/" + "/".join(out)


def redact_uid(cookie):
    if cookie.startswith("x-uid="):
        return "x-uid=<uid>" + cookie[cookie.index(";"):]
    return cookie


def redact_version(cookie):
    if cookie.startswith("x-higress-tag="):
        return "x-higress-tag=<v>" + cookie[cookie.index(";"):]
    return cookie


def strip_version(seen):
    # a random new uid lands in a random bucket: deployment and version differ by design
    parts = seen.split("|")
    return "|".join(["*", "*", parts[2] if len(parts) > 2 else "", "*"])


if __name__ == "__main__":
    sys.exit(main())
