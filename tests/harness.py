#!/usr/bin/env python3
"""A small Test::Nginx-style harness: declarative blocks run against a real nginx.

    tests/harness.py --nginx BIN --module SO [--label NAME] tests/t/*.t

A `.t` file holds blocks; each starts a fresh nginx (on 127.0.0.1, free ports) with the module
loaded, runs its steps, checks the expectations and stops nginx by its PID. Sections of a
block (`--- name` or `--- name: inline value`):

  yaml [FILE]         the module's YAML, written to conf/FILE (default gray.yaml); `yaml eval`:
                      a Python expression giving the text
  main_config         extra main-level directives
  http_config         extra http-level directives (an origin server, upstreams …)
  config              the body of the test server (`listen` is added)
  user_files          files under the prefix: `>>> path` lines, each followed by its content;
                      `user_files eval`: a Python expression giving {path: text}
  listen_options      parameters added to the test server's `listen` (e.g. `sndbuf=4k`)
  must_die            `nginx -t` must fail (expectations: error_log on its output)
  error_log           regexes that must appear in the error log (or `nginx -t` output)
  no_error_log        regexes that must not appear in the error log

A step starts at `request` (METHOD PATH [HTTP/1.x]) or `reload` (YAML text written to
gray.yaml, then SIGHUP; `reload_fails: 1` expects the reload to be refused). A step's:

  more_headers        extra request headers, one per line (`eval` suffix: Python expression → bytes)
  error_code          expected status
  response_headers    `Name: value` must be present (exact), `!Name` must be absent
  response_headers_like `Name: regex` (any header of that name matches)
  response_body       exact body (trailing newline of the section is significant as in Test::Nginx: stripped)
  response_body_like  regex (DOTALL) on the body
  repeat              run the request N times, all must pass
  during_reload       with `reload`: a request (METHOD PATH) fired in a loop while the reload
                      runs; every answer must be 200
  raw_response_like   regex on the whole raw response bytes (pipelined / keep-alive requests)
  body_streams        the first body byte must arrive at least this many seconds before the end
  slow_client         read the response slowly: a 4 KB receive buffer, this many bytes per read
                      and 1 ms between reads (nginx then sees its socket full and must wait)
  worker_rss_growth_kb_max  the worker's RSS may grow at most this much over the step

Block-level:
  origin_chunks eval  a Python list of byte strings: a raw origin on $TEST_NGINX_CHUNK_PORT sends
                      them as an HTML response, each flushed on its own (chunked, or with
                      Content-Length when `origin_content_length: 1`); `origin_delay` seconds
                      between chunks (default 0.002), `origin_last_delay` before the last one

Python expressions (`eval`) may use big_page(kb): an entry page of about kb kilobytes with
`{version}` in its title and in every tenth line.

Placeholders in every section: $TEST_NGINX_SERVER_PORT, $TEST_NGINX_ORIGIN_PORT,
$TEST_NGINX_PREFIX. Every block also fails on [alert]/[crit] lines, panics or crashed workers
in the error log. Prints one line per block and a final `N passed, M failed`.
"""

import argparse
import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from nginxproc import free_port, rss_kb, workers  # noqa: E402 (after the path it lives on)

SECTION = re.compile(r"^--- (\w+)(?:\s+(eval))?(?::\s*(.*))?$")
STEP_SECTIONS = {
    "raw_response_like", "body_streams", "worker_rss_growth_kb_max",
    "request", "reload", "more_headers", "error_code", "response_headers", "response_headers_like",
    "response_body", "response_body_like", "repeat", "during_reload", "reload_fails", "raw_request",
    "slow_client",
}
WRAPPER = []  # e.g. valgrind and its options (--wrapper)
ALWAYS_BAD = [r"\[alert\]", r"\[crit\]", r"panicked", r"exited on signal", r"\[emerg\]"]


class Block:
    def __init__(self, file, title, line):
        self.file, self.title, self.line = file, title, line
        self.sections = {}   # block-level
        self.files = {}      # yaml files
        self.steps = []      # list of dicts


def parse(path):
    blocks, cur, name, step, buf, arg = [], None, None, None, [], None

    def flush():
        nonlocal buf, name
        if cur is None or name is None:
            buf = []
            return
        text = re.sub(r"\n+$", "", "\n".join(buf))
        if name == "response_body" and not evalflag and text:
            text += "\n"  # a body section's last line ends with a newline, as in Test::Nginx
        if name == "yaml":
            if evalflag:
                text = eval(text)  # noqa: S307 - test data written by us
            cur.files[arg or "gray.yaml"] = text + "\n"
        elif name in STEP_SECTIONS:
            target = cur.steps[-1] if cur.steps and name not in ("request", "reload", "raw_request") else None
            if name in ("request", "reload", "raw_request"):
                cur.steps.append({})
                target = cur.steps[-1]
            if target is None:
                raise SystemExit(f"{path}: section {name} before any request")
            target[name] = text
            if evalflag:
                target[name + "_eval"] = True
        else:
            cur.sections[name] = text
            if evalflag:
                cur.sections[name + "_eval"] = True
        buf = []

    evalflag = False
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines, 1):
        if line.startswith("=== "):
            flush()
            name = None
            cur = Block(path, line[4:].strip(), i)
            blocks.append(cur)
            continue
        m = SECTION.match(line)
        if m and cur is not None:
            flush()
            name, evalflag, inline = m.group(1), bool(m.group(2)), m.group(3)
            arg = None
            if name == "yaml" and inline:
                arg, inline = inline.strip(), None
            if inline is not None:
                buf = [inline]
                flush()
                name = None
            continue
        if name is not None:
            buf.append(line)
    flush()
    return blocks


def big_page(kb):
    """A plain entry page of about `kb` KB: `{version}` in the title and every tenth line."""
    lines = [f'<p class="row" data-n="{i}">row {i}{" of {version}" if i % 10 == 0 else ""}</p>'
             for i in range(kb * 1024 // 40)]
    return ("<!DOCTYPE html><html><head><title>{version}</title></head><body>\n"
            + "\n".join(lines) + "\n</body></html>\n")


def http(port, method, target, headers=b"", raw=None, timeout=10, slow=0):
    """One HTTP/1.1 request on a new connection; returns (status, [(name, value)], body bytes).
    `slow`: read at most this many bytes at a time, 1 ms apart, through a small receive buffer."""
    if raw is None:
        req = (f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n").encode("latin-1")
        req += headers + b"\r\n"
    else:
        req = raw
    t0 = time.time()
    first_body_at = None
    with socket.socket() as s:
        s.settimeout(timeout)
        if slow:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(req)
        chunks = []
        seen = 0
        while True:
            if slow and chunks:
                time.sleep(0.001)
            chunk = s.recv(slow or 65536)
            if not chunk:
                break
            chunks.append(chunk)
            seen += len(chunk)
            if first_body_at is None:
                joined = b"".join(chunks)
                h = joined.find(b"\r\n\r\n")
                if h >= 0 and seen > h + 4:
                    first_body_at = time.time() - t0
        data = b"".join(chunks)
    http.last_timing = (first_body_at, time.time() - t0)
    http.last_raw = data
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        return 0, [], data
    status = int(lines[0].split()[1])
    hdrs = []
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in hdrs):
        parts, i = [], 0
        while i < len(body):
            eol = body.find(b"\r\n", i)
            if eol < 0:
                break
            n = int(body[i:eol].split(b";")[0] or b"0", 16)
            if n == 0:
                break
            parts.append(body[eol + 2:eol + 2 + n])
            i = eol + 2 + n + 2
        body = b"".join(parts)
    if method == "HEAD":
        body = b""
    if any(k.lower() == "content-encoding" and v.lower() == "gzip" for k, v in hdrs) and body:
        try:
            body = gzip.decompress(body)
        except OSError:
            pass  # not really gzip: left as it is
    return status, hdrs, body


class Nginx:
    def __init__(self, binary, module, block):
        self.binary, self.module, self.block = binary, module, block
        self.prefix = tempfile.mkdtemp(prefix="fg-t-")
        self.port, self.origin_port, self.chunk_port = free_port(), free_port(), free_port()
        self.proc = None
        self.origin = None

    def subst(self, text):
        return (text.replace("$TEST_NGINX_SERVER_PORT", str(self.port))
                .replace("$TEST_NGINX_ORIGIN_PORT", str(self.origin_port))
                .replace("$TEST_NGINX_CHUNK_PORT", str(self.chunk_port))
                .replace("$TEST_NGINX_PREFIX", self.prefix))

    def write(self, rel, text, mode="w"):
        p = os.path.join(self.prefix, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode) as f:
            f.write(text)

    def setup(self):
        b = self.block
        for d in ("conf", "logs", "html", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        for name, text in b.files.items():
            self.write(os.path.join("conf", name), self.subst(text))
        uf = b.sections.get("user_files")
        if uf and b.sections.get("user_files_eval"):
            for rel, text in eval(uf).items():  # noqa: S307 - test data written by us
                self.write(rel, text)
        elif uf:
            cur, content = None, []
            for line in (uf + "\n").split("\n"):
                if line.startswith(">>> "):
                    if cur:
                        self.write(cur, self.subst("\n".join(content).rstrip("\n") + "\n"))
                    cur, content = line[4:].strip(), []
                else:
                    content.append(line)
            if cur:
                self.write(cur, self.subst("\n".join(content).rstrip("\n") + "\n"))
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = f"""load_module {self.module};
{user}worker_processes 1;
daemon off;
master_process on;
pid logs/nginx.pid;
error_log logs/error.log info;
{b.sections.get('main_config', '')}
events {{ worker_connections 256; }}
http {{
    include_mime_types_here;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
{b.sections.get('http_config', '')}
    server {{
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT {b.sections.get('listen_options', '')};
        server_name localhost;
{b.sections.get('config', '')}
    }}
}}
"""
        types = "types { text/html html htm; text/css css; application/javascript js; application/json json; text/plain txt; }"
        conf = conf.replace("include_mime_types_here;", types)
        self.write("conf/nginx.conf", self.subst(conf))

    def cmd(self, *extra):
        return [self.binary, "-p", self.prefix + "/", "-c", "conf/nginx.conf", *extra]

    def test_config(self):
        r = subprocess.run(self.cmd("-t"), capture_output=True, text=True)
        return r.returncode, r.stderr

    def start(self):
        self.proc = subprocess.Popen(WRAPPER + self.cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + (120 if WRAPPER else 10)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                if self.workers():
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("nginx did not start listening")

    def workers(self):
        return set(workers(self.proc.pid))

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs/error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def reload(self, yaml_text, expect_fail, timeout=None):
        timeout = timeout or (120 if WRAPPER else 15)
        old = self.workers()
        log_len = len(self.error_log())
        self.write("conf/gray.yaml", self.subst(yaml_text + "\n"))
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline:
            new_log = self.error_log()[log_len:]
            if expect_fail:
                if "[emerg]" in new_log:
                    return new_log
            else:
                now = self.workers()
                if now and not (now & old):
                    return new_log
            time.sleep(0.02)
        raise RuntimeError("reload did not complete")  # (valgrind: raise the timeout)

    def start_origin(self):
        chunks = eval(self.block.sections["origin_chunks"])  # noqa: S307 - test data written by us
        delay = float(self.block.sections.get("origin_delay", "0.002"))
        last_delay = float(self.block.sections.get("origin_last_delay", delay))
        use_length = self.block.sections.get("origin_content_length") == "1"
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.chunk_port))
        srv.listen(16)
        srv.settimeout(0.2)
        stop = threading.Event()

        def serve(conn):
            with conn:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    d = conn.recv(4096)
                    if not d:
                        return
                    buf += d
                head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
                if use_length:
                    head += b"Content-Length: %d\r\n\r\n" % sum(len(c) for c in chunks)
                else:
                    head += b"Transfer-Encoding: chunked\r\n\r\n"
                conn.sendall(head)
                for i, c in enumerate(chunks):
                    if i:
                        time.sleep(last_delay if i == len(chunks) - 1 else delay)
                    conn.sendall(c if use_length else b"%x\r\n%s\r\n" % (len(c), c))
                if not use_length:
                    conn.sendall(b"0\r\n\r\n")

        def loop():
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except OSError:
                    continue
                threading.Thread(target=serve, args=(conn,), daemon=True).start()
            srv.close()
        threading.Thread(target=loop, daemon=True).start()
        self.origin = stop

    def worker_rss_kb(self):
        return sum(rss_kb(pid) for pid in self.workers())

    def stop(self):
        if self.origin:
            self.origin.set()
            self.origin = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def check_step(ng, step, errors):
    if "reload" in step:
        stop_flag, results = threading.Event(), []
        loader = None
        if "during_reload" in step:
            m, t = step["during_reload"].split()[:2]

            def hammer():
                while not stop_flag.is_set():
                    try:
                        results.append(http(ng.port, m, t)[0])
                    except OSError as e:
                        results.append(repr(e))
            loader = threading.Thread(target=hammer)
            loader.start()
            time.sleep(0.05)
        try:
            ng.reload(step["reload"], bool(step.get("reload_fails")))
        finally:
            if loader:
                time.sleep(0.05)
                stop_flag.set()
                loader.join()
        bad = [r for r in results if r != 200]
        if loader and (bad or not results):
            errors.append(f"during reload: {len(bad)} of {len(results)} requests failed: {bad[:5]}")
        return
    headers = b""
    if "more_headers" in step:
        mh = step["more_headers"]
        if step.get("more_headers_eval"):
            headers = eval(mh)  # noqa: S307 - test data written by us
            if isinstance(headers, str):
                headers = headers.encode("latin-1")
        else:
            headers = "".join(ln.strip() + "\r\n" for ln in ng.subst(mh).split("\n") if ln.strip()).encode("utf-8")
    raw = None
    if "raw_request" in step:
        raw = eval(step["raw_request"]) if step.get("raw_request_eval") else ng.subst(step["raw_request"]).encode()
        method, target = "GET", ""
    else:
        req = step["request"]
        if step.get("request_eval"):
            req = eval(req)
        parts = ng.subst(req).split()
        method, target = parts[0], parts[1]
    rss0 = ng.worker_rss_kb() if "worker_rss_growth_kb_max" in step else 0
    for _ in range(int(step.get("repeat", "1"))):
        try:
            status, hdrs, body = http(ng.port, method, target, headers, raw,
                                      slow=int(step.get("slow_client", "0")))
        except OSError as e:
            errors.append(f"{method} {target}: {e!r}")
            return
        label = f"{method} {target}"
        if "error_code" in step and status != int(step["error_code"]):
            errors.append(f"{label}: status {status}, expected {step['error_code']}")
        for line in ng.subst(step.get("response_headers", "")).split("\n"):
            line = line.strip()
            if not line:
                continue
            if line.startswith("!"):
                name = line[1:].strip().lower()
                if any(k.lower() == name for k, _ in hdrs):
                    errors.append(f"{label}: header {line[1:]} present: {[v for k, v in hdrs if k.lower() == name]}")
                continue
            name, _, value = line.partition(":")
            vals = [v for k, v in hdrs if k.lower() == name.strip().lower()]
            if value.strip() not in vals:
                errors.append(f"{label}: header {name}: expected {value.strip()!r}, got {vals}")
        for line in ng.subst(step.get("response_headers_like", "")).split("\n"):
            if not line.strip():
                continue
            name, _, rx = line.partition(":")
            vals = [v for k, v in hdrs if k.lower() == name.strip().lower()]
            if not any(re.search(rx.strip(), v) for v in vals):
                errors.append(f"{label}: header {name}: no value matches /{rx.strip()}/ in {vals}")
        text = body.decode("utf-8", errors="replace")
        if "response_body" in step:
            want = ng.subst(step["response_body"])
            if step.get("response_body_eval"):
                want = eval(step["response_body"])
            if text != want:
                errors.append(f"{label}: body {text[:300]!r}, expected {want[:300]!r}")
        if "response_body_like" in step:
            rx = ng.subst(step["response_body_like"])
            if not re.search(rx, text, re.S):
                errors.append(f"{label}: body {text[:300]!r} does not match /{rx}/")
        if "raw_response_like" in step:
            rx = ng.subst(step["raw_response_like"])
            if not re.search(rx.encode(), http.last_raw, re.S):
                errors.append(f"{label}: raw response {http.last_raw[:300]!r} does not match /{rx}/")
        if "body_streams" in step:
            first, total = http.last_timing
            if first is None or total - first < float(step["body_streams"]):
                errors.append(f"{label}: first body byte at {first}s of {total:.3f}s: not streamed")
        if errors:
            return
    if "worker_rss_growth_kb_max" in step:
        grown = ng.worker_rss_kb() - rss0
        print(f"    # worker RSS grew {grown} kB over {step.get('repeat', '1')} request(s)")
        if grown > int(step["worker_rss_growth_kb_max"]):
            errors.append(f"worker RSS grew {grown} kB, over {step['worker_rss_growth_kb_max']} kB")


def run_block(binary, module, b):
    errors = []
    ng = Nginx(binary, module, b)
    try:
        ng.setup()
        rc, out = ng.test_config()
        if "must_die" in b.sections:
            if rc == 0:
                errors.append("nginx -t passed, expected failure")
            log = out
        else:
            if rc != 0:
                return [f"nginx -t failed: {out.strip()}"]
            if "origin_chunks" in b.sections:
                ng.start_origin()
            ng.start()
            for step in b.steps:
                check_step(ng, step, errors)
                if errors:
                    break
            ng.stop()
            log = out + ng.error_log()  # configuration-time messages go to nginx -t's stderr
        for rx in [x for x in b.sections.get("error_log", "").split("\n") if x.strip()]:
            if not re.search(ng.subst(rx.strip()), log):
                errors.append(f"error log lacks /{rx.strip()}/")
        expected_emerg = "must_die" in b.sections or any(s.get("reload_fails") for s in b.steps)
        bad = [x for x in b.sections.get("no_error_log", "").split("\n") if x.strip()]
        if "must_die" not in b.sections:
            bad += [r for r in ALWAYS_BAD if not (expected_emerg and r == r"\[emerg\]")]
        for rx in bad:
            m = re.search(rx.strip(), log)
            if m:
                line = log[log.rfind("\n", 0, m.start()) + 1: log.find("\n", m.end())]
                errors.append(f"error log has /{rx.strip()}/: {line[:300]}")
    except Exception as e:  # noqa: BLE001 - report, go on with the next block
        errors.append(f"harness: {e!r}")
    finally:
        ng.stop()
        if not errors and not os.environ.get("KEEP"):
            subprocess.run(["rm", "-rf", ng.prefix])
        elif errors:
            errors.append(f"(prefix kept: {ng.prefix})")
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("--label", default="")
    ap.add_argument("--filter", default="")
    ap.add_argument("--wrapper", default="", help="command prefix for nginx, e.g. valgrind options")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    WRAPPER[:] = a.wrapper.split()
    passed = failed = 0
    for f in a.files:
        for b in parse(f):
            if a.filter and a.filter not in b.title:
                continue
            t0 = time.time()
            errs = run_block(a.nginx, os.path.abspath(a.module), b)
            name = f"{a.label}{os.path.basename(f)}:{b.line} {b.title}"
            if errs:
                failed += 1
                print(f"not ok - {name}")
                for e in errs:
                    print(f"    # {e}")
            else:
                passed += 1
                print(f"ok - {name} ({time.time() - t0:.2f}s)")
            sys.stdout.flush()
    print(f"{a.label}nginx tests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
