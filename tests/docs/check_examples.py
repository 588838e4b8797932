#!/usr/bin/env python3
"""Every YAML and nginx example of the README and docs/ must be accepted by nginx, so that no
example rots.

    tests/docs/check_examples.py --nginx BIN --module SO [FILE.md …]   (default: README.md docs/**/*.md)

A fenced block's info string says what it is: ```yaml and ```nginx are checked (```yml, for YAML
that is not the module's — a Prometheus configuration, say — is not); other words
after the language are options:

  yaml file=PATH   this page's nginx examples find the file at PATH (relative to nginx.conf's
                   folder); else it is checked on its own as example-N.yaml
  yaml broken      must be refused by `nginx -t` (an example of an error)
  yaml warns       `nginx -t` passes with a warning of the module (shown on purpose)
                   (a `file=` block that a nginx example of the page names is checked through
                   that example only: it may use variables the example defines)
  nginx needs=A,B  what the example needs besides the module: another dynamic module (`M.so`,
                   loaded from /usr/lib/nginx/modules/ into Debian's nginx) or a data file (an
                   absolute path); where one is missing the example is skipped, not counted
  nginx            a whole nginx.conf (it has `http {`), http-level directives (`server {`,
                   `upstream`, `map` …), or the directives of a server (`location …`):
                   wrapped accordingly

Each example gets its own prefix with the repository's nginx-conf/ files (gray/app1.yaml …),
the page's `file=` YAML files and /etc/nginx/mime.types; `listen` is moved to a free
127.0.0.1 port, absolute `frontend_gray` paths, /var/log/nginx/ and /var/cache/nginx/ into the prefix, and
`load_module …ngx_http_frontend_gray_module.so` to the module under test; a host name that does
not resolve here (no DNS on the test machine) becomes 127.0.0.1. A YAML example
without `baseDeployment` (a fragment showing some fields) gets `baseDeployment: {version: base}`.
Any [warn] of the module fails an example not marked `warns`. When a `frontend-gray` command
exists (target/*/frontend-gray or on PATH), its `check` must agree on every YAML example.
Without FILE arguments, the copyable configurations of nginx-conf/ (each .conf whole, each
YAML file alone) are checked too; a .conf with a comment `check: warns` must pass with a
warning of the module. Prints one line per example and
`docs examples: N passed, M failed`.
"""

import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.M | re.S)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def examples(path):
    text = open(path, encoding="utf-8").read()
    for m in FENCE.finditer(text):
        lang, opts, body = m.group(1), m.group(2).split(), m.group(3)
        if lang not in ("yaml", "nginx"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        o = {}
        for w in opts:
            k, _, v = w.partition("=")
            o[k] = v or True
        yield lang, o, body, line


def find_cli():
    for c in glob.glob(os.path.join(ROOT, "target", "*", "release", "frontend-gray")) + \
            glob.glob(os.path.join(ROOT, "target", "release", "frontend-gray")):
        if os.access(c, os.X_OK):
            return c
    return shutil.which("frontend-gray")


def top_level(body):
    """The names of the directives/blocks at depth 0 of an nginx snippet."""
    depth, names, word_start = 0, [], True
    for tok in re.findall(r"#[^\n]*|\"(?:\\.|[^\"])*\"|'(?:\\.|[^'])*'|[{};]|[^\s{};#\"']+", body):
        if tok.startswith("#"):
            continue
        if tok == "{":
            depth += 1
            word_start = True
        elif tok == "}":
            depth -= 1
            word_start = True
        elif tok == ";":
            word_start = True
        else:
            if word_start and depth == 0:
                names.append(tok)
            word_start = False
    return names


HTTP_LEVEL = {"server", "upstream", "map", "log_format", "geo", "split_clients", "include",
              "proxy_cache_path", "limit_req_zone", "gzip", "gzip_types", "types"}


class Checker:
    def __init__(self, binary, module):
        self.binary, self.module = os.path.abspath(binary), os.path.abspath(module)
        self.cli = find_cli()
        self.passed = self.failed = 0

    def result(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}")
            for ln in detail.strip().splitlines()[:40]:
                print(f"    | {ln}")

    def prefix(self, page_files):
        p = tempfile.mkdtemp(prefix="fg-docs-")
        for d in ("conf", "logs", "html", "tmp"):
            os.makedirs(os.path.join(p, d), exist_ok=True)
        for src in glob.glob(os.path.join(ROOT, "nginx-conf", "**", "*.yaml"), recursive=True):
            dst = os.path.join(p, "conf", os.path.relpath(src, os.path.join(ROOT, "nginx-conf")))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)
        if os.path.exists("/etc/nginx/mime.types"):
            shutil.copy("/etc/nginx/mime.types", os.path.join(p, "conf", "mime.types"))
        else:
            with open(os.path.join(p, "conf", "mime.types"), "w") as f:
                f.write("types { text/html html; application/javascript js; text/css css; }\n")
        for rel, text in page_files.items():
            dst = os.path.join(p, "conf", rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w") as f:
                f.write(text)
        return p

    def nginx_t(self, p, conf):
        """nginx -t on conf. A host name nginx cannot resolve here (no DNS on the test
        machine: an object store's name, say) is replaced by 127.0.0.1 and the test repeated."""
        conf = conf.replace("$PREFIX", p)
        names = top_level(conf)
        g = "".join(f"{d} {v}; " for d, v in (("pid", f"{p}/logs/nginx.pid"),
                                              ("error_log", f"{p}/logs/error.log info"))
                    if d not in names)
        for _ in range(5):
            with open(os.path.join(p, "conf", "nginx.conf"), "w") as f:
                f.write(conf)
            r = subprocess.run([self.binary, "-p", p + "/", "-c", "conf/nginx.conf", "-t"]
                               + (["-g", g] if g else []), capture_output=True, text=True)
            m = re.search(r'host not found in upstream "([A-Za-z0-9.-]+\.[A-Za-z]+)(:\d+)?"', r.stderr)
            if r.returncode == 0 or not m:
                break
            conf = conf.replace(m.group(1), "127.0.0.1")
        return r.returncode, r.stderr, conf

    def wrap_yaml(self, yaml_file):
        return f"""load_module {self.module};
events {{}}
http {{
    server {{
        listen 127.0.0.1:{free_port()};
        location / {{ frontend_gray {yaml_file}; root html; }}
    }}
}}
"""

    def fix_nginx(self, body, p):
        body = re.sub(r"^(\s*)load_module\s+\S*ngx_http_frontend_gray_module\.so\s*;",
                      lambda m: f"{m.group(1)}load_module {self.module};", body, flags=re.M)
        body = re.sub(r"^(\s*)listen\s+[^;]*;", lambda m: f"{m.group(1)}listen 127.0.0.1:{free_port()};",
                      body, flags=re.M)

        def yaml_path(m):
            path = m.group(2)
            if path.startswith("/"):
                # /etc/nginx/gray/app1.yaml → conf/gray/app1.yaml: the page's file or nginx-conf's
                tail = re.sub(r"^/etc/nginx/", "", path)
                path = tail if tail != path else os.path.basename(path)
            return f"{m.group(1)}{path};"
        body = re.sub(r"(\bfrontend_gray\s+)([^\s;]+);", lambda m: m.group(0) if m.group(2) == "off"
                      else yaml_path(m), body)
        body = body.replace("/var/log/nginx/", f"{p}/logs/").replace("/var/cache/nginx/", f"{p}/tmp/")
        names = top_level(body)
        if "http" in names:
            conf = body
            if "events" not in names:
                conf = "events {}\n" + conf
            if "load_module" not in names:
                conf = f"load_module {self.module};\n" + conf
            return conf
        if any(n in HTTP_LEVEL for n in names) and "location" not in names:
            return f"load_module {self.module};\nevents {{}}\nhttp {{\n{body}\n}}\n"
        return f"""load_module {self.module};
events {{}}
http {{
    include mime.types;
    server {{
        listen 127.0.0.1:{free_port()};
{body}
    }}
}}
"""

    def module_warnings(self, err):
        return [ln for ln in err.splitlines() if "[warn]" in ln and "frontend_gray" in ln]

    def check_page(self, md):
        rel = os.path.relpath(md, ROOT)
        blocks = list(examples(md))
        page_files = {o["file"]: body for lang, o, body, _ in blocks if lang == "yaml" and isinstance(o.get("file"), str)}
        nginx_text = "\n".join(body for lang, _, body, _ in blocks if lang == "nginx")
        for lang, o, body, line in blocks:
            name = f"{rel}:{line} {lang}{' ' + o['file'] if isinstance(o.get('file'), str) else ''}"
            if lang == "yaml" and isinstance(o.get("file"), str) and re.search(
                    r"\bfrontend_gray\s+\S*" + re.escape(o["file"]) + r"\s*;", nginx_text):
                if self.cli:  # the command has no nginx variables: only nginx checks it
                    pass
                continue  # checked by the nginx example that names it
            needs = o.get("needs").split(",") if isinstance(o.get("needs"), str) else []
            mods = [n for n in needs if n.endswith(".so")]
            missing = [n for n in needs if not os.path.exists(
                os.path.join("/usr/lib/nginx/modules", n) if n.endswith(".so") else n)]
            if missing or (mods and self.binary != "/usr/sbin/nginx"):
                print(f"skip {name} (needs {', '.join(missing or mods)}: not here, or not loadable into this nginx)")
                continue
            p = self.prefix(page_files)
            try:
                if lang == "yaml":
                    text = body if re.search(r"^baseDeployment\s*:", body, re.M) else \
                        body + "\nbaseDeployment: {version: base}\n"
                    with open(os.path.join(p, "conf", "example.yaml"), "w") as f:
                        f.write(text)
                    rc, err, _ = self.nginx_t(p, self.wrap_yaml("example.yaml"))
                    warns = self.module_warnings(err)
                    if o.get("broken"):
                        self.result(name + " (refused)", rc != 0 and "frontend_gray" in err, err)
                    elif o.get("warns"):
                        self.result(name + " (warns)", rc == 0 and bool(warns), err)
                    else:
                        self.result(name, rc == 0 and not warns, err)
                    if self.cli:
                        r = subprocess.run([self.cli, "check", os.path.join(p, "conf", "example.yaml")],
                                           capture_output=True, text=True)
                        self.result(name + " (frontend-gray check)",
                                    (r.returncode != 0) == bool(o.get("broken")), r.stdout + r.stderr)
                else:
                    conf = self.fix_nginx(body, p)
                    for m in mods:
                        conf = f"load_module /usr/lib/nginx/modules/{m};\n" + conf
                    rc, err, conf = self.nginx_t(p, conf)
                    warns = self.module_warnings(err)
                    self.result(name, rc == 0 and not warns, err + "\n--- as checked:\n" + conf)
            finally:
                shutil.rmtree(p, ignore_errors=True)


def _check_nginx_conf(self):
    """The copyable examples of nginx-conf/: each .conf whole, each YAML file on its own."""
    base = os.path.join(ROOT, "nginx-conf")
    for conf in sorted(glob.glob(os.path.join(base, "*.conf"))):
        p = self.prefix({})
        try:
            body = open(conf, encoding="utf-8").read()
            rc, err, text = self.nginx_t(p, self.fix_nginx(body, p))
            if re.search(r"#.*\bcheck: warns\b", body):  # a warning shown on purpose
                self.result(os.path.relpath(conf, ROOT) + " (warns)", rc == 0 and bool(self.module_warnings(err)),
                            err + "\n--- as checked:\n" + text)
            else:
                self.result(os.path.relpath(conf, ROOT), rc == 0 and not self.module_warnings(err),
                            err + "\n--- as checked:\n" + text)
        finally:
            shutil.rmtree(p, ignore_errors=True)
    for y in sorted(glob.glob(os.path.join(base, "**", "*.yaml"), recursive=True)):
        p = self.prefix({})
        try:
            rc, err, _ = self.nginx_t(p, self.wrap_yaml(os.path.relpath(y, base)))
            self.result(os.path.relpath(y, ROOT), rc == 0 and not self.module_warnings(err), err)
        finally:
            shutil.rmtree(p, ignore_errors=True)


Checker.check_nginx_conf = _check_nginx_conf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    files = a.files or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True))
    c = Checker(a.nginx, a.module)
    if not c.cli:
        print("# no frontend-gray command yet: only nginx -t checks the examples")
    for f in files:
        c.check_page(f)
    if not a.files:
        c.check_nginx_conf()
    print(f"{a.label}docs examples: {c.passed} passed, {c.failed} failed")
    sys.exit(0 if c.failed == 0 else 1)


if __name__ == "__main__":
    main()
