#!/usr/bin/env python3
"""An entry page and an asset over HTTP/3 (QUIC) through the module, on an nginx built with
--with-http_v3_module (the vendored build). The client is aioquic (PyPI): Debian bookworm's curl
has no HTTP/3. Prints `http3: N passed, M failed`.

    tests/ship/http3.py NGINX_BINARY MODULE_SO     (run with a Python that has aioquic)
"""

import asyncio
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from nginxproc import wait_listening  # noqa: E402

from aioquic.asyncio.client import connect  # noqa: E402
from aioquic.asyncio.protocol import QuicConnectionProtocol  # noqa: E402
from aioquic.h3.connection import H3_ALPN, H3Connection  # noqa: E402
from aioquic.h3.events import DataReceived, HeadersReceived  # noqa: E402
from aioquic.quic.configuration import QuicConfiguration  # noqa: E402

YAML = """grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
baseDeployment: {version: '1.0'}
grayDeployments: [{name: beta, version: '2.0', enabled: true}]
injection: {head: ['<meta name="gray" content="{version}">']}
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}'}
"""


def free_tcp_udp_port():
    for _ in range(50):
        t, u = socket.socket(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


class H3Client(QuicConnectionProtocol):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = H3Connection(self._quic)
        self.waiters = {}

    def quic_event_received(self, event):
        for ev in self.h3.handle_event(event):
            if isinstance(ev, (HeadersReceived, DataReceived)) and ev.stream_id in self.waiters:
                fut, resp = self.waiters[ev.stream_id]
                if isinstance(ev, HeadersReceived):
                    resp["headers"].extend((k.decode(), v.decode()) for k, v in ev.headers)
                else:
                    resp["body"] += ev.data
                if ev.stream_ended and not fut.done():
                    fut.set_result(resp)

    async def get(self, port, path, headers=()):
        sid = self._quic.get_next_available_stream_id()
        fut = asyncio.get_running_loop().create_future()
        self.waiters[sid] = (fut, {"headers": [], "body": b""})
        hdrs = [(b":method", b"GET"), (b":scheme", b"https"),
                (b":authority", f"localhost:{port}".encode()), (b":path", path.encode())]
        hdrs += [(k.encode(), v.encode()) for k, v in headers]
        self.h3.send_headers(sid, hdrs, end_stream=True)
        self.transmit()
        return await asyncio.wait_for(fut, 10)


async def requests(port):
    cfg = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, verify_mode=ssl.CERT_NONE,
                            server_name="localhost")
    async with connect("127.0.0.1", port, configuration=cfg, create_protocol=H3Client) as c:
        entry = await c.get(port, "/app1", [("cookie", "userid=00000002")])
        asset = await c.get(port, "/app1/js/app.js", [("cookie", "x-higress-tag=2.0")])
        base = await c.get(port, "/app1")
        return entry, asset, base


def main():
    binary, module = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    passed = failed = 0

    def check(what, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print(f"ok   http3: {what}")
        else:
            failed += 1
            print(f"FAIL http3: {what} {detail}")

    v = subprocess.run([binary, "-V"], capture_output=True, text=True).stderr
    if "--with-http_v3_module" not in v:
        check("nginx built with --with-http_v3_module", False, "(not in nginx -V)")
        print(f"http3: {passed} passed, {failed} failed")
        sys.exit(1)

    prefix = tempfile.mkdtemp(prefix="fg-h3-")
    proc = None
    try:
        for d in ("conf", "logs", "tmp", "html/mfe/app1/1.0/js", "html/mfe/app1/2.0/js"):
            os.makedirs(os.path.join(prefix, d), exist_ok=True)
        for ver in ("1.0", "2.0"):
            with open(f"{prefix}/html/mfe/app1/{ver}/index.html", "w") as f:
                f.write(f"<html><head><title>app</title></head><body>version {ver}</body></html>\n")
            with open(f"{prefix}/html/mfe/app1/{ver}/js/app.js", "w") as f:
                f.write(f"console.log('{ver}');\n")
        with open(f"{prefix}/conf/gray.yaml", "w") as f:
            f.write(YAML)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-keyout", f"{prefix}/conf/key.pem", "-out", f"{prefix}/conf/cert.pem"],
                       check=True, capture_output=True)
        port = free_tcp_udp_port()
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(f"{prefix}/conf/nginx.conf", "w") as f:
            f.write(f"""load_module {module};
{user}worker_processes 1;
daemon off;
pid logs/nginx.pid;
error_log logs/error.log info;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; application/javascript js; }}
    access_log off;
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        listen 127.0.0.1:{port} quic;
        http3 on;
        ssl_certificate cert.pem;
        ssl_certificate_key key.pem;
        ssl_protocols TLSv1.3;
        add_header X-Protocol $server_protocol always;
        location / {{ frontend_gray gray.yaml; root html; }}
    }}
}}
""")
        proc = subprocess.Popen([binary, "-p", prefix + "/", "-c", "conf/nginx.conf"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(port, proc)
        time.sleep(0.2)
        entry, asset, base = asyncio.run(requests(port))

        def h(resp, name):
            return [v for k, v in resp["headers"] if k == name]

        check("entry over HTTP/3: 200", h(entry, ":status") == ["200"], entry["headers"])
        check("served as HTTP/3.0", h(entry, "x-protocol") == ["HTTP/3.0"], h(entry, "x-protocol"))
        check("gray user gets the gray entry, injected",
              b"version 2.0" in entry["body"] and b'<meta name="gray" content="2.0">' in entry["body"],
              entry["body"][:200])
        check("entry sets the version cookie",
              any(c.startswith("x-higress-tag=2.0;") for c in h(entry, "set-cookie")), h(entry, "set-cookie"))
        check("entry is uncacheable",
              h(entry, "cache-control") == ["no-cache, no-store, max-age=0, must-revalidate"],
              h(entry, "cache-control"))
        check("asset over HTTP/3 from the gray version",
              h(asset, ":status") == ["200"] and asset["body"] == b"console.log('2.0');\n", asset)
        check("base user gets the base entry", b"version 1.0" in base["body"], base["body"][:200])
        with open(f"{prefix}/logs/error.log") as f:
            log = f.read()
        check("no [alert]/[crit]/[emerg] in the error log",
              not any(s in log for s in ("[alert]", "[crit]", "[emerg]")), log[-500:])
    except Exception as e:  # a failed start or a QUIC error is a failed test, not a traceback
        check("HTTP/3 requests", False, repr(e))
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(prefix, ignore_errors=True)
    print(f"http3: {passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
