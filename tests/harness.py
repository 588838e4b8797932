#!/usr/bin/env python3
"""A small, strict Test::Nginx-style harness: declarative blocks run against a real nginx.

    tests/harness.py --nginx BIN --module SO [--label NAME] [--filter TEXT] tests/t/*.t
    tests/harness.py --nginx BIN --module SO --self-test     (runs tests/selftest/*.t)

A `.t` file holds blocks; each starts a fresh nginx (on 127.0.0.1, free ports) with the module
loaded, runs its steps, checks the expectations and stops nginx by its PID. Sections of a
block (`--- name`, `--- name eval` or `--- name: inline value`); an unknown section, a section
given twice, `eval` on a section that does not honour it, or a step section in the wrong kind of
step is an error of the block, never a silently unused section:

  yaml [FILE]         the module's YAML, written to conf/FILE (default gray.yaml); `yaml eval`:
                      a Python expression giving the text
  main_config         extra main-level directives
  http_config         extra http-level directives (an origin server, upstreams …)
  config              the body of the test server (`listen` is added)
  user_files          files under the prefix: `>>> path` lines, each followed by its content;
                      `user_files eval`: a Python expression giving {path: text}
  listen_options      parameters added to the test server's `listen` (e.g. `sndbuf=4k`)
  must_die            `nginx -t` must fail AND a real start must fail (exit without listening);
                      `error_log` is required and each regex must match both outputs; no steps
  error_log           regexes that must appear in the error log (or in the -t / start output);
                      a line they match is also declared (see the implicit checks)
  allow_error_log     regexes of [error]/[crit]/[alert]/[emerg] lines the block tolerates
                      (need not appear): the opt-out of the implicit error-level check
  no_error_log        regexes that must not appear in the error log

A step starts at `request` (METHOD PATH [HTTP/1.x]; eval), `raw_request` (bytes sent as they are;
eval) or `reload` (YAML text written to gray.yaml, then SIGHUP). A request step's:

  more_headers        extra request headers, one per line (`eval`: Python expression → bytes)
  request_port        send this step to another port (e.g. $TEST_NGINX_CHUNK_PORT) instead
  error_code          expected status; default 200 (as in Test::Nginx; not for raw_request)
  response_headers    `Name: value`: some header of that name has exactly this value;
                      `!Name`: no header of that name
  response_headers_like `Name: regex`: some header of that name matches (re.search);
                      `!Name: regex`: no header of that name matches; `!Name`: none at all
  response_headers_exact  every name listed gets exactly the listed values, no more, no fewer,
                      duplicates counted (order free): `Name: value` is an exact value,
                      `Name ~ regex` a full-match (anchored) regex; `!Name`: none at all
  response_body       exact body (the section's trailing newline stripped, then one added, as in
                      Test::Nginx; `eval`: the expression's value, exactly)
  response_body_like  regex (DOTALL, re.search) on the body; anchor with ^ and \\Z
  repeat              run the request N times, all must pass
  raw_response_like   regex on the whole raw response bytes (pipelined / keep-alive requests)
  body_streams        the first body byte must arrive at least this many seconds before the end
  slow_client         read the response slowly: a 4 KB receive buffer, this many bytes per read
                      and 1 ms between reads (nginx then sees its socket full and must wait)
  response_check eval  Python expressions, one a line, each must be true of the response `r`:
                      r.status, r.values("Name") (a list), r.text (the body), cookies(r)
                      ({name: value} of its Set-Cookie headers; a name set twice is an error),
                      bucket(uid) (xxh3_64(uid) % 100, from the `xxhash` Python package),
                      http_time(v) (an HTTP date in epoch seconds), now() (epoch seconds)
  worker_rss_growth_kb_max  the worker's PEAK RSS over the step (VmHWM, reset before the step,
                      and RSS sampled every 5 ms while responses are in flight) may exceed its
                      RSS before the step by at most this much

A reload step's (nothing else may follow `reload` before the next step):
  reload_fails        1: the reload must be refused ([emerg], the old workers keep serving);
                      0 (default): it must succeed (new workers, no [emerg])
  during_reload       a request (METHOD PATH) fired in a loop while the reload runs; every
                      answer must be a well-framed 200; an exception in that loop fails the block
  reload_error_log    regexes that must appear in the log lines this reload wrote

Block-level, for origins the harness runs itself on $TEST_NGINX_CHUNK_PORT:
  origin_chunks eval  a Python list of byte strings sent as an HTML response, each flushed on its
                      own (chunked, or with Content-Length when `origin_content_length: 1`);
                      `origin_delay` seconds between chunks (default 0.002), `origin_last_delay`
                      before the last one
  raw_origin eval     bytes sent verbatim as the whole answer to every connection (then closed):
                      for responses nginx would never produce (self-tests of the framing checks)

Implicit checks on every block (a block fails on any of them):
  - framing of every response: a body shorter (or longer) than its Content-Length, a chunked
    body without its terminating chunk or with bad chunk sizes, both Content-Length and chunked,
    bytes after the response, a body on a HEAD / 204 / 304 response, no status line;
  - `Content-Encoding: gzip` bodies must decompress (the decompressed body is then compared);
  - any [error], [crit], [alert] line in error.log (and [emerg], unless the block has
    `must_die` or a failing reload) not matched by an `error_log` or `allow_error_log` regex;
  - panics and workers that exited on a signal, always;
  - an empty regex anywhere is an error of the block.

Python expressions (`eval`) may use big_page(kb): an entry page of about kb kilobytes with
`{version}` in its title and in every tenth line.

Placeholders in every section: $TEST_NGINX_SERVER_PORT, $TEST_NGINX_ORIGIN_PORT,
$TEST_NGINX_CHUNK_PORT, $TEST_NGINX_PREFIX. Prints one line per block and a final
`N passed, M failed`.

Self-test mode (`--self-test [FILES]`, default tests/selftest/*.t): a block whose title starts
with `PASS` must pass; every other block must fail, and its `selftest_fails_with` regex must
match one of the harness's messages for it (so it fails for the reason it is about). Prints
`harness self-test: N passed, M failed`. SELFTEST_DEBUG=1 lets such a block run in the normal
mode, to read its messages.
"""

import argparse
import email.utils
import glob
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
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from nginxproc import free_port, rss_kb, workers  # noqa: E402 (after the path it lives on)

SECTION = re.compile(r"^--- (\w+)(?:\s+(eval))?(?::\s*(.*))?$")
# name -> honours `eval`
BLOCK_SECTIONS = {
    "yaml": True, "main_config": False, "http_config": False, "config": False, "user_files": True,
    "listen_options": False, "must_die": False, "error_log": False, "allow_error_log": False,
    "no_error_log": False, "origin_chunks": True, "origin_delay": False, "origin_last_delay": False,
    "origin_content_length": False, "raw_origin": True, "selftest_fails_with": False,
}
STEP_STARTS = {"request": True, "raw_request": True, "reload": False}
REQUEST_SECTIONS = {
    "more_headers": True, "request_port": False, "error_code": False, "response_headers": False,
    "response_headers_like": False, "response_headers_exact": False, "response_body": True,
    "response_body_like": False, "repeat": False, "raw_response_like": False, "body_streams": False,
    "slow_client": False, "worker_rss_growth_kb_max": False, "response_check": True,
}
RELOAD_SECTIONS = {"reload_fails": False, "during_reload": False, "reload_error_log": False}
MUST_EVAL = {"origin_chunks", "raw_origin", "response_check"}
WRAPPER = []  # e.g. valgrind and its options (--wrapper)
HTTP_EXTRA = []  # http-level directives added to every block (--http-extra)
ALWAYS_BAD = [r"panicked", r"exited on signal"]
ERROR_LEVEL = re.compile(r"\[(error|crit|alert|emerg)\]")


class Block:
    def __init__(self, file, title, line):
        self.file, self.title, self.line = file, title, line
        self.sections = {}   # block-level
        self.files = {}      # yaml files
        self.steps = []      # list of dicts
        self.problems = []   # errors found while parsing: the block fails with them


def parse(path):
    blocks = []
    cur = name = arg = None
    evalflag = False
    buf = []
    file_problems = []

    def problem(msg):
        (cur.problems if cur is not None else file_problems).append(f"{path}: {msg}")

    def flush():
        nonlocal buf, name
        if cur is None or name is None:
            buf, name = [], None
            return
        text = re.sub(r"\n+$", "", "\n".join(buf))
        buf = []
        sec, name = name, None
        if sec == "response_body" and not evalflag and text:
            text += "\n"  # a body section's last line ends with a newline, as in Test::Nginx
        if sec in BLOCK_SECTIONS:
            if evalflag and not BLOCK_SECTIONS[sec]:
                return problem(f"section {sec} does not honour eval")
            if sec in MUST_EVAL and not evalflag:
                return problem(f"section {sec} needs eval")
            if sec == "yaml":
                fname = arg or "gray.yaml"
                if fname in cur.files:
                    return problem(f"yaml {fname} given twice")
                try:
                    cur.files[fname] = (eval(text) if evalflag else text) + "\n"  # noqa: S307
                except Exception as e:  # noqa: BLE001 - the block fails with it
                    problem(f"yaml eval: {e!r}")
                return
            if sec in cur.sections:
                return problem(f"section {sec} given twice")
            cur.sections[sec] = text
            if evalflag:
                cur.sections[sec + "_eval"] = True
            return
        if sec in STEP_STARTS:
            if evalflag and not STEP_STARTS[sec]:
                return problem(f"section {sec} does not honour eval")
            cur.steps.append({sec: text, "_kind": "reload" if sec == "reload" else "request"})
            if evalflag:
                cur.steps[-1][sec + "_eval"] = True
            return
        allowed = {**REQUEST_SECTIONS, **RELOAD_SECTIONS}
        if sec not in allowed:
            return problem(f"unknown section {sec!r}")
        if not cur.steps:
            return problem(f"section {sec} before any request or reload")
        step = cur.steps[-1]
        kind_sections = RELOAD_SECTIONS if step["_kind"] == "reload" else REQUEST_SECTIONS
        if sec not in kind_sections:
            return problem(f"section {sec} belongs to a {'reload' if sec in RELOAD_SECTIONS else 'request'} "
                           f"step, not to the {step['_kind']} step before it (it would never be checked)")
        if evalflag and not kind_sections[sec]:
            return problem(f"section {sec} does not honour eval")
        if sec in MUST_EVAL and not evalflag:
            return problem(f"section {sec} needs eval")
        if sec in step:
            return problem(f"section {sec} given twice in one step")
        step[sec] = text
        if evalflag:
            step[sec + "_eval"] = True

    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines, 1):
        if line.startswith("=== "):
            flush()
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
            continue
        if line.startswith("--- ") and cur is not None:
            problem(f"line {i}: not a section header: {line!r}")
        if name is not None:
            buf.append(line)
    flush()
    for b in blocks:
        if "must_die" in b.sections:
            if b.steps:
                b.problems.append(f"{path}: must_die block with steps (they would never run)")
            if not b.sections.get("error_log", "").strip():
                b.problems.append(f"{path}: must_die needs an error_log regex (else any failure passes)")
        for s in b.steps:
            if s.get("reload_fails", "0") not in ("0", "1"):
                b.problems.append(f"{path}: reload_fails must be 0 or 1, not {s['reload_fails']!r}")
    if file_problems:
        b = Block(path, "(outside any block)", 0)
        b.problems = file_problems
        blocks.insert(0, b)
    return blocks


def regexes(text, what):
    """The non-empty lines of a regex section, compiled; an unparsable regex raises."""
    out = []
    for ln in text.split("\n"):
        if ln.strip():
            try:
                out.append(re.compile(ln.strip()))
            except re.error as e:
                raise ValueError(f"{what}: bad regex /{ln.strip()}/: {e}") from None
    return out


def need_regex(rx, what):
    if not rx.strip():
        raise ValueError(f"{what}: empty regex (it would match anything)")
    try:
        return re.compile(rx.strip(), re.S)
    except re.error as e:
        raise ValueError(f"{what}: bad regex /{rx.strip()}/: {e}") from None


def bucket(uid):
    """SPEC §4.5's bucket, by the reference xxHash library (not the module's code)."""
    try:
        import xxhash
    except ImportError:
        raise ValueError("bucket(): needs the xxhash Python package (python3 -m pip install xxhash)") from None
    return xxhash.xxh3_64_intdigest(uid.encode() if isinstance(uid, str) else uid) % 100


def cookies(r):
    """{name: value} of a response's Set-Cookie headers; a cookie set twice raises."""
    out = {}
    for v in r.values("Set-Cookie"):
        name, _, rest = v.partition("=")
        if name in out:
            raise ValueError(f"cookie {name} set twice: {r.values('Set-Cookie')}")
        out[name] = rest.split(";", 1)[0]
    return out


def http_time(v):
    return email.utils.parsedate_to_datetime(v).timestamp()


def big_page(kb):
    """A plain entry page of about `kb` KB: `{version}` in the title and every tenth line."""
    lines = [f'<p class="row" data-n="{i}">row {i}{" of {version}" if i % 10 == 0 else ""}</p>'
             for i in range(kb * 1024 // 40)]
    return ("<!DOCTYPE html><html><head><title>{version}</title></head><body>\n"
            + "\n".join(lines) + "\n</body></html>\n")


class Response:
    def __init__(self):
        self.status, self.headers, self.body, self.raw = 0, [], b"", b""
        self.problems = []   # framing / encoding errors

    def values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


def parse_response(data, method):
    """One response from the start of `data`, strictly framed. Returns (Response, bytes used)."""
    r = Response()
    end = data.find(b"\r\n\r\n")
    if end < 0:
        r.problems.append(f"no end of headers in {data[:200]!r}")
        return r, len(data)
    lines = data[:end].split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})(?: |$)", lines[0])
    if not m:
        r.problems.append(f"bad status line {lines[0][:100]!r}")
        return r, len(data)
    r.status = int(m.group(1))
    for ln in lines[1:]:
        k, sep, v = ln.partition(b":")
        if not sep or not k.strip() or k != k.strip():
            r.problems.append(f"malformed header line {ln[:100]!r}")
            continue
        r.headers.append((k.decode("latin-1"), v.decode("latin-1").strip()))
    rest = data[end + 4:]
    cls = r.values("Content-Length")
    chunked = any("chunked" in v.lower() for v in r.values("Transfer-Encoding"))
    no_body = method == "HEAD" or r.status in (204, 304) or 100 <= r.status < 200
    if cls and chunked:
        r.problems.append("both Content-Length and Transfer-Encoding: chunked")
    if len(set(cls)) > 1:
        r.problems.append(f"several different Content-Length values {cls}")
    used = end + 4
    if no_body:
        # nothing follows on this connection but the next response
        if rest and not rest.startswith(b"HTTP/"):
            r.problems.append(f"{method} response with {len(rest)} body bytes: {rest[:60]!r}")
            used = len(data)
        return r, used
    if chunked:
        parts, i = [], 0
        while True:
            eol = rest.find(b"\r\n", i)
            if eol < 0:
                r.problems.append("chunked body without its terminating chunk")
                break
            size = rest[i:eol].split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]+", size):
                r.problems.append(f"bad chunk size line {rest[i:eol][:40]!r}")
                break
            n = int(size, 16)
            if n == 0:
                if rest[eol + 2:eol + 4] == b"\r\n":
                    i = eol + 4
                else:
                    tend = rest.find(b"\r\n\r\n", eol)   # trailer fields, then an empty line
                    if tend < 0:
                        r.problems.append("chunked body: last chunk without its final CRLF")
                        i = len(rest)
                    else:
                        i = tend + 4
                break
            chunk = rest[eol + 2:eol + 2 + n]
            if len(chunk) < n or rest[eol + 2 + n:eol + 4 + n] != b"\r\n":
                r.problems.append(f"chunk of {n} bytes cut short or not followed by CRLF")
                break
            parts.append(chunk)
            i = eol + 4 + n
        r.body = b"".join(parts)
        used += min(i, len(rest))
    elif cls:
        try:
            n = int(cls[0])
        except ValueError:
            r.problems.append(f"bad Content-Length {cls[0]!r}")
            n = len(rest)
        if len(rest) < n:
            r.problems.append(f"body shorter than its Content-Length: {len(rest)} of {n} bytes")
        r.body = rest[:n]
        used += min(n, len(rest))
    else:
        r.body = rest   # delimited by the connection's close
        used = len(data)
    if r.body and any(v.lower() == "gzip" for v in r.values("Content-Encoding")):
        try:
            r.body = gzip.decompress(r.body)
        except (OSError, EOFError, zlib.error) as e:
            r.problems.append(f"Content-Encoding: gzip body does not decompress: {e!r}")
    return r, used


def request_methods(raw):
    """The methods of the requests in a raw (possibly pipelined) request, in order."""
    out, i = [], 0
    while i < len(raw):
        end = raw.find(b"\r\n\r\n", i)
        if end < 0:
            break
        head = raw[i:end]
        out.append(head.split(b" ", 1)[0].decode("latin-1"))
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        i = end + 4 + (int(m.group(1)) if m else 0)
    return out


def http(port, method, target, headers=b"", raw=None, timeout=10, slow=0):
    """A request on a new connection, read to its close; returns [Response] (one per request of
    a pipelined `raw`). `slow`: read at most this many bytes at a time, 1 ms apart, through a
    small receive buffer. Framing problems are in each Response's `problems`."""
    if raw is None:
        req = (f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n").encode("latin-1")
        req += headers + b"\r\n"
        methods = [method]
    else:
        req = raw
        methods = request_methods(raw) or ["GET"]
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
    out, pos = [], 0
    for i, m in enumerate(methods):
        r, used = parse_response(data[pos:], m)
        r.raw = data[pos:pos + used]
        out.append(r)
        pos += used
        if r.problems or pos >= len(data):
            if not r.problems and i + 1 < len(methods):
                r.problems.append(f"{len(methods) - i - 1} of {len(methods)} pipelined requests got no response")
            break
    if pos < len(data) and not out[-1].problems:
        out[-1].problems.append(f"{len(data) - pos} bytes after the last response: {data[pos:pos + 60]!r}")
    out[0].all_raw = data
    return out


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
                elif cur is None and line.strip():
                    raise ValueError(f"user_files: text before the first `>>> path` line: {line!r}")
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
    {' '.join(HTTP_EXTRA)}
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

    def start_must_fail(self):
        """A real start of a configuration that must not start: returns (problem or None, output)."""
        self.proc = subprocess.Popen(WRAPPER + self.cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + (120 if WRAPPER else 10)
        while self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                self.stop()
                return "nginx started and listens although the block says must_die", self.error_log()
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                return "nginx neither exited nor listened in 10 s (must_die)", self.error_log()
            time.sleep(0.02)
        out = self.proc.stderr.read().decode(errors="replace") + self.error_log()
        if self.proc.returncode == 0:
            return "nginx start exited 0 although the block says must_die", out
        return None, out

    def workers(self):
        return set(workers(self.proc.pid))

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs/error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def reload(self, yaml_text, expect_fail, timeout=None):
        """Writes gray.yaml, sends SIGHUP, waits for the outcome; returns (problem or None, the
        log lines this reload wrote)."""
        timeout = timeout or (120 if WRAPPER else 15)
        old = self.workers()
        log_len = len(self.error_log())
        self.write("conf/gray.yaml", self.subst(yaml_text + "\n"))
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline:
            new_log = self.error_log()[log_len:]
            now = self.workers()
            if "[emerg]" in new_log and new_log.endswith("\n"):  # nginx writes a line at once
                if not expect_fail:
                    return "reload refused, expected it to succeed (reload_fails: 0)", new_log
                if not old <= self.workers():
                    return "reload refused but the old workers did not keep serving", new_log
                return None, new_log
            if now and not (now & old):
                if expect_fail:
                    return "reload succeeded, expected it to be refused (reload_fails: 1)", new_log
                return None, new_log
            time.sleep(0.02)
        return "reload did not complete", self.error_log()[log_len:]  # (valgrind: raise the timeout)

    def start_origin(self):
        raw = eval(self.block.sections["raw_origin"]) if "raw_origin" in self.block.sections else None  # noqa: S307
        chunks = eval(self.block.sections["origin_chunks"]) if raw is None else []  # noqa: S307
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
                if raw is not None:
                    conn.sendall(raw)
                    return
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


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakRss:
    """The workers' peak RSS over a stretch of time: VmHWM reset at the start (clear_refs 5),
    and VmRSS sampled every 5 ms, in case the reset is not permitted."""

    def __init__(self, ng):
        self.pids = sorted(ng.workers())
        self.before = sum(rss_kb(p) for p in self.pids)
        self.hwm_reset = True
        for p in self.pids:
            try:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.hwm_reset = False
        self.sampled = self.before
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while not self.stop_flag.is_set():
            try:
                self.sampled = max(self.sampled, sum(rss_kb(p) for p in self.pids))
            except OSError:
                pass
            time.sleep(0.005)

    def finish(self):
        self.stop_flag.set()
        self.thread.join()
        after = sum(rss_kb(p) for p in self.pids)
        hwm = sum(status_kb(p, "VmHWM") for p in self.pids) if self.hwm_reset else 0
        return max(hwm, self.sampled, after) - self.before, after - self.before


def check_reload(ng, step, errors):
    stop_flag, results, crashes = threading.Event(), [], []
    loader = None
    if "during_reload" in step:
        parts = ng.subst(step["during_reload"]).split()
        if len(parts) < 2:
            errors.append(f"during_reload: expected METHOD PATH, got {step['during_reload']!r}")
            return
        m, t = parts[:2]

        def hammer():
            try:
                while not stop_flag.is_set():
                    try:
                        r = http(ng.port, m, t)[0]
                        results.append(r.status if not r.problems else f"{r.status} {r.problems}")
                    except OSError as e:
                        results.append(repr(e))
            except BaseException as e:  # noqa: BLE001 - any exception fails the block
                crashes.append(e)
        loader = threading.Thread(target=hammer)
        loader.start()
        time.sleep(0.05)
    try:
        problem, new_log = ng.reload(step["reload"], step.get("reload_fails", "0") == "1")
    finally:
        if loader:
            time.sleep(0.05)
            stop_flag.set()
            loader.join()
    if problem:
        errors.append(f"reload: {problem}: {new_log.strip()[-300:]}")
    if crashes:
        errors.append(f"during reload: the load thread raised {crashes[0]!r}")
    bad = [r for r in results if r != 200]
    if loader and (bad or not results):
        errors.append(f"during reload: {len(bad)} of {len(results)} requests failed: {bad[:5]}")
    for rx in regexes(ng.subst(step.get("reload_error_log", "")), "reload_error_log"):
        if not rx.search(new_log):
            errors.append(f"reload: the log lines of this reload lack /{rx.pattern}/")


def check_headers(label, step, ng, r, errors):
    for line in ng.subst(step.get("response_headers", "")).split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("!"):
            if r.values(line[1:].strip()):
                errors.append(f"{label}: header {line[1:]} present: {r.values(line[1:].strip())}")
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"response_headers: not `Name: value` nor `!Name`: {line!r}")
        vals = r.values(name.strip())
        if value.strip() not in vals:
            errors.append(f"{label}: header {name}: expected {value.strip()!r}, got {vals}")
    for line in ng.subst(step.get("response_headers_like", "")).split("\n"):
        line = line.strip()
        if not line:
            continue
        neg = line.startswith("!")
        name, sep, rx = line.lstrip("!").partition(":")
        vals = r.values(name.strip())
        if neg and not sep:
            if vals:
                errors.append(f"{label}: header {name.strip()} present: {vals}")
            continue
        c = need_regex(rx, f"response_headers_like {name.strip()}")
        hits = [v for v in vals if c.search(v)]
        if neg and hits:
            errors.append(f"{label}: header {name.strip()}: value(s) {hits} match /{c.pattern}/, expected none")
        elif not neg and not hits:
            errors.append(f"{label}: header {name.strip()}: no value matches /{c.pattern}/ in {vals}")
    want = {}   # lower name -> (display name, [(kind, text)])
    for line in ng.subst(step.get("response_headers_exact", "")).split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("!"):
            want.setdefault(line[1:].strip().lower(), (line[1:].strip(), []))
            continue
        m = re.match(r"^([^:~\s]+)\s*(:|~)\s?(.*)$", line)
        if not m:
            raise ValueError(f"response_headers_exact: not `Name: value`, `Name ~ regex` nor `!Name`: {line!r}")
        name, op, text = m.groups()
        if op == "~":
            text = need_regex(text, f"response_headers_exact {name}")
        want.setdefault(name.lower(), (name, []))[1].append((op, text))
    for lname, (name, specs) in want.items():
        vals = r.values(lname)
        if not match_all(specs, vals):
            shown = [t if op == ":" else f"~/{t.pattern}/" for op, t in specs]
            errors.append(f"{label}: header {name}: expected exactly {shown}, got {vals}")


def match_all(specs, vals):
    """Whether the values pair off one to one with the specs (exact or full-match regex)."""
    if len(specs) != len(vals):
        return False
    if not specs:
        return True
    (op, t), rest = specs[0], specs[1:]
    for i, v in enumerate(vals):
        if (v == t if op == ":" else t.fullmatch(v)) and match_all(rest, vals[:i] + vals[i + 1:]):
            return True
    return False


def check_step(ng, step, errors):
    if step["_kind"] == "reload":
        return check_reload(ng, step, errors)
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
        raw = eval(step["raw_request"]) if step.get("raw_request_eval") else ng.subst(step["raw_request"]).encode()  # noqa: S307
        method, target = "GET", "(raw request)"
    else:
        req = step["request"]
        if step.get("request_eval"):
            req = eval(req)  # noqa: S307
        parts = ng.subst(req).split()
        if len(parts) < 2:
            raise ValueError(f"request: expected METHOD PATH, got {req!r}")
        method, target = parts[0], parts[1]
    port = int(ng.subst(step["request_port"])) if "request_port" in step else ng.port
    want_status = step.get("error_code", None if raw is not None else "200")
    peak = PeakRss(ng) if "worker_rss_growth_kb_max" in step else None
    try:
        run_requests(ng, step, errors, method, target, headers, raw, port, want_status)
    finally:
        if peak:
            grown, after = peak.finish()
    if peak:
        print(f"    # worker peak RSS {grown:+d} kB over {step.get('repeat', '1')} request(s) "
              f"(after: {after:+d} kB)")
        if grown > int(step["worker_rss_growth_kb_max"]):
            errors.append(f"worker peak RSS grew {grown} kB, over {step['worker_rss_growth_kb_max']} kB")


def run_requests(ng, step, errors, method, target, headers, raw, port, want_status):
    for _ in range(int(step.get("repeat", "1"))):
        label = f"{method} {target}"
        try:
            rs = http(port, method, target, headers, raw, slow=int(step.get("slow_client", "0")))
        except OSError as e:
            errors.append(f"{label}: {e!r}")
            return
        for r in rs:
            errors.extend(f"{label}: {p}" for p in r.problems)
        r = rs[0]
        if want_status is not None and r.status != int(want_status):
            errors.append(f"{label}: status {r.status}, expected {want_status}")
        check_headers(label, step, ng, r, errors)
        text = r.body.decode("utf-8", errors="replace")
        if "response_body" in step:
            want = eval(step["response_body"]) if step.get("response_body_eval") else ng.subst(step["response_body"])  # noqa: S307
            if text != want:
                errors.append(f"{label}: body {text[:300]!r}, expected {want[:300]!r}")
        if "response_body_like" in step:
            c = need_regex(ng.subst(step["response_body_like"]), "response_body_like")
            if not c.search(text):
                errors.append(f"{label}: body {text[:300]!r} does not match /{c.pattern}/")
        r.text = text
        for expr in [x.strip() for x in step.get("response_check", "").split("\n") if x.strip()]:
            try:
                ok = eval(expr, {"r": r, "cookies": cookies, "bucket": bucket, "re": re,  # noqa: S307
                                 "http_time": http_time, "now": time.time})
            except ValueError:
                raise
            except Exception as e:  # noqa: BLE001 - the check fails, with the reason
                ok, expr = False, f"{expr} (raised {e!r})"
            if not ok:
                errors.append(f"{label}: response_check failed: {expr}; headers {r.headers}, body {text[:100]!r}")
        if "raw_response_like" in step:
            rx = ng.subst(step["raw_response_like"])
            if not rx.strip():
                raise ValueError("raw_response_like: empty regex (it would match anything)")
            if not re.search(rx.encode(), rs[0].all_raw, re.S):
                errors.append(f"{label}: raw response {rs[0].all_raw[:300]!r} does not match /{rx}/")
        if "body_streams" in step:
            first, total = http.last_timing
            if first is None or total - first < float(step["body_streams"]):
                errors.append(f"{label}: first body byte at {first}s of {total:.3f}s: not streamed")
        if errors:
            break


def log_line(log, pos):
    return log[log.rfind("\n", 0, pos) + 1: (log.find("\n", pos) + 1 or len(log) + 1) - 1]


def check_log(b, ng, log, errors):
    required = regexes(ng.subst(b.sections.get("error_log", "")), "error_log")
    allowed = regexes(ng.subst(b.sections.get("allow_error_log", "")), "allow_error_log")
    for rx in required:
        if not rx.search(log):
            errors.append(f"error log lacks /{rx.pattern}/")
    emerg_ok = "must_die" in b.sections or any(s.get("reload_fails") == "1" for s in b.steps)
    for line in log.split("\n"):
        m = ERROR_LEVEL.search(line)
        if not m or (emerg_ok and m.group(1) == "emerg"):
            continue
        if not any(rx.search(line) for rx in required + allowed):
            errors.append(f"error log has an undeclared [{m.group(1)}] line (declare it in "
                          f"error_log or allow_error_log): {line[:300]}")
    bad = regexes(ng.subst(b.sections.get("no_error_log", "")), "no_error_log")
    bad += [re.compile(x) for x in ALWAYS_BAD]
    for rx in bad:
        m = rx.search(log)
        if m:
            errors.append(f"error log has /{rx.pattern}/: {log_line(log, m.start())[:300]}")


def run_block(binary, module, b):
    if b.problems:
        return list(b.problems)
    errors = []
    ng = Nginx(binary, module, b)
    try:
        ng.setup()
        rc, out = ng.test_config()
        if "must_die" in b.sections:
            if rc == 0:
                errors.append("nginx -t passed, expected failure")
            problem, start_out = ng.start_must_fail()
            if problem:
                errors.append(problem)
            for rx in regexes(ng.subst(b.sections["error_log"]), "error_log"):
                if not rx.search(start_out):
                    errors.append(f"the output of a real start lacks /{rx.pattern}/: {start_out.strip()[-300:]}")
            check_log(b, ng, out, errors)
        else:
            if rc != 0:
                return [f"nginx -t failed: {out.strip()}"]
            if "origin_chunks" in b.sections or "raw_origin" in b.sections:
                ng.start_origin()
            ng.start()
            for step in b.steps:
                check_step(ng, step, errors)
                if errors:
                    break
            ng.stop()
            check_log(b, ng, out + ng.error_log(), errors)  # config-time messages go to -t's stderr
    except Exception as e:  # noqa: BLE001 - report, go on with the next block
        errors.append(f"harness: {e!r}" if not isinstance(e, ValueError) else f"harness: {e}")
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
    ap.add_argument("--http-extra", default="",
                    help="http-level directives for every block, e.g. 'sendfile on;' (Debian's default)")
    ap.add_argument("--self-test", action="store_true",
                    help="run the harness's own blocks (default tests/selftest/*.t): each must fail "
                         "for its stated reason, except those titled PASS…")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    WRAPPER[:] = a.wrapper.split()
    HTTP_EXTRA[:] = [a.http_extra] if a.http_extra else []
    files = a.files
    if a.self_test and not files:
        files = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "selftest", "*.t")))
    if not files:
        ap.error("no .t files given")
    passed = failed = 0
    for f in files:
        for b in parse(f):
            if a.filter and a.filter not in b.title:
                continue
            t0 = time.time()
            if not a.self_test and "selftest_fails_with" in b.sections and not os.environ.get("SELFTEST_DEBUG"):
                errs = [f"{f}: selftest_fails_with outside --self-test"]
            else:
                errs = run_block(a.nginx, os.path.abspath(a.module), b)
            name = f"{a.label}{os.path.basename(f)}:{b.line} {b.title}"
            if a.self_test:
                errs = judge_self_test(b, errs)
            if errs:
                failed += 1
                print(f"not ok - {name}")
                for e in errs:
                    print(f"    # {e}")
            else:
                passed += 1
                print(f"ok - {name} ({time.time() - t0:.2f}s)")
            sys.stdout.flush()
    kind = "harness self-test" if a.self_test else "nginx tests"
    print(f"{a.label}{kind}: {passed} passed, {failed} failed")
    return 1 if failed else 0


def judge_self_test(b, errs):
    """A self-test block passes when it fails for the reason it names (or passes, if PASS…)."""
    errs = [e for e in errs if not e.startswith("(prefix kept")]
    if b.title.startswith("PASS"):
        return errs
    want = b.sections.get("selftest_fails_with", "").strip()
    if not want:
        return ["self-test block without selftest_fails_with"]
    if not errs:
        return [f"passed, but must fail with /{want}/"]
    if not any(re.search(want, e) for e in errs):
        return [f"failed, but not with /{want}/:"] + errs
    return []


if __name__ == "__main__":
    sys.exit(main())
