#!/usr/bin/env python3
"""Render cache tests (`frontend_gray_render_cache`): entry pages nginx serves from files with
`sendfile on`, rewritten once per (file, version, configuration) per worker.

  equal       for pages of every kind (SPA index, server-rendered, no <head>, no tags), the
              cached answer (MISS then HIT, $gray_render_cache in the access log) is byte-equal
              to the streamed one (sendfile off), for two users with their own global config
  replace     a file replaced (renamed over) under load: every answer is the old page or the
              new page whole, never a mix; the new one shows at once; so does a file rewritten
              in place
  fresh       a file changed in the last two seconds is served but not kept (file times are
              coarse and inodes reused: two writes within a tick could look alike)
  bound       a 1 MB cache and 120 pages of 200 KB: the worker's memory stays within the
              budget (measured), the newest pages hit, the oldest were evicted
  reload      `nginx -s reload` drops the cache (the first answer after it is a MISS)
  replay      entries through proxy_pass: recorded (MISS), then replayed (HIT) byte-equal to a
              server with the cache off, for every kind of page and three users; a page that
              changes at the origin (a byte early, in the middle, at the end; cut; extended) is
              served as the new page whole, recorded again, then replayed; a page that changes
              on every response (per request) is marked volatile and streams
  replay-bound  a 1 MB budget and 120 proxied pages of 100 KB: the worker's memory stays
              within it (measured), the newest pages replay, the oldest were evicted

    tests/cache/run.py --nginx BIN --module SO [--only NAME,NAME]

Every process started is stopped by its PID. Ends with `cache tests: N passed, M failed`.
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from nginxproc import free_port, rss_kb, run_tests, wait_listening, workers  # noqa: E402

PREFIXES = []

YAML = """grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
injection:
  head: ['<meta name=release content={version}>']
  body: {first: ['<div id=banner>{version}</div>'], last: ['<script>/* {version} */</script>']}
  globalConfig: {enabled: true, key: GRAY, featureKey: F}
"""


def pages():
    """Entry pages of every kind, by name."""
    cards = "".join(f'<div class="card c{i}"><h3>Item {i}</h3><p>Price <b>{i}</b></p>'
                    f'<a href="/p/{i}">more</a></div>' for i in range(3000))
    return {
        "spa.html": "<!doctype html><html><head><meta charset=utf-8><title>App</title>"
                    "<link rel=stylesheet href=/a.css></head><body><div id=root></div>"
                    + "<script>" + "var x=1;" * 4000 + "</script>"
                    + "<script src=/app.{version}.js></script></body></html>\n",
        "ssr.html": "<!DOCTYPE html><html lang=en><head><title>Shop</title></head><body>"
                    + cards + '<script id=state type="application/json">{"a":"</b>"}</script>'
                    + "</body></html>\n",
        # a long start before <head> (a licence comment): that part goes by sendfile too
        "prefix.html": "<!-- " + "licence text " * 500 + "-->\n<html><head><title>t</title></head>"
                       + "<body>" + "<p>{version}</p>" * 2000 + "</body></html>\n",
        "nohead.html": "<title>t</title><p>no head or body tags {version}</p>\n",
        "plain.html": "just text, no tags at all\n",
        "empty.html": "",
    }


_tick = [0]


def aged(path, age):
    """Sets the file's times `age` seconds back, a distinct nanosecond each call, as files
    deployed at different moments have."""
    _tick[0] += 1
    t = time.time_ns() - age * 10**9 + _tick[0] * 1000
    os.utime(path, ns=(t, t))


class Nginx:
    def __init__(self, binary, module, cache="", workers_n=1):
        self.binary, self.module = binary, module
        self.prefix = tempfile.mkdtemp(prefix="fg-cache-")
        PREFIXES.append(self.prefix)
        self.port = free_port()
        self.proc = None
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        for v in ("v1", "v2"):
            for name, text in pages().items():
                self.write(f"html/{v}/{name}", text)
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
    log_format cache "$request_uri $gray_version $gray_render_cache";
    access_log logs/access.log cache;
    default_type text/plain;
    types {{ text/html html; }}
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    sendfile on;
    tcp_nopush on;
    gzip on;
    gzip_min_length 0;
    {cache}
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ frontend_gray app.yaml; root html/$gray_version; }}
        location /streamed/ {{
            sendfile off;
            frontend_gray app.yaml;
            rewrite ^/streamed/(.*)$ /$1 break;
            root html/$gray_version;
        }}
        # entries through proxy_pass, from the origin below (the same files)
        location ~ ^/proxied/(.*)$ {{
            frontend_gray app.yaml;
            proxy_pass http://127.0.0.1:{self.port}/origin/$gray_version/$1;
        }}
        location /origin/ {{ alias html/; }}
        # a page rendered per request
        location /dyn/ {{ frontend_gray app.yaml; proxy_pass http://127.0.0.1:{self.port}/origin-dyn/; }}
        location /origin-dyn/ {{
            default_type text/html;
            return 200 "<html><head></head><body><p>$request_id</p></body></html>";
        }}
    }}
}}
""")

    def write(self, rel, text, age=60):
        """Writes a file as it was `age` seconds ago (the cache keeps settled files only)."""
        p = os.path.join(self.prefix, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        aged(p, age)

    def start(self):
        self.proc = subprocess.Popen([self.binary, "-p", self.prefix + "/", "-c", "conf/nginx.conf"],
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

    def get(self, path, cookie="", gzip=False):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        h = {"Cookie": cookie} if cookie else {}
        if gzip:
            h["Accept-Encoding"] = "gzip"
        try:
            c.request("GET", path, headers=h)
            r = c.getresponse()
            body = r.read()
            self.last_headers = r.headers
            if r.getheader("Content-Encoding") == "gzip":
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif gzip and len(body) > 100:
                raise AssertionError(f"{path}: not compressed")
            return r.status, body
        finally:
            c.close()

    def access(self):
        """The access log's lines so far (polled: nginx writes them after the answer)."""
        with open(os.path.join(self.prefix, "logs/access.log")) as f:
            return f.read().splitlines()

    def statuses(self, n, prefix="/"):
        """$gray_render_cache of the first `n` requests whose URI starts with `prefix`
        (polled: nginx writes the log after the answer)."""
        deadline = time.time() + 5
        while time.time() < deadline:
            lines = [ln for ln in self.access() if ln.startswith(prefix)]
            if len(lines) >= n:
                return [ln.split(" ")[-1].replace("-", "") for ln in lines]  # "-": empty
            time.sleep(0.02)
        raise AssertionError(f"the access log has {len(self.access())} lines, not {n}")

    def error_log(self):
        with open(os.path.join(self.prefix, "logs/error.log"), errors="replace") as f:
            return f.read()


def memfd_bytes(pid):
    """Bytes in the worker's page files (the render cache's memfds)."""
    total = 0
    d = f"/proc/{pid}/fd"
    for fd in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, fd)).startswith("/memfd:frontend-gray-page"):
                total += os.stat(os.path.join(d, fd)).st_size
        except OSError:
            pass
    return total


def check_log(ng):
    bad = [ln for ln in ng.error_log().splitlines()
           if any(k in ln for k in ("[alert]", "[crit]", "[emerg]", "[error]", "panicked", "exited on signal"))]
    assert not bad, "error log: " + "\n".join(bad[:5])


def t_equal(args):
    ng = Nginx(args.nginx, args.module).start()
    try:
        n = 0
        for name in pages():
            for cookie in ("", "userid=u2", "userid=u9"):
                streamed = ng.get(f"/streamed/{name}", cookie)
                first = ng.get(f"/{name}", cookie)
                again = ng.get(f"/{name}", cookie)
                n += 3
                if name != "empty.html":
                    # from the cache the whole length is known: Content-Length, not chunked
                    h = ng.last_headers
                    assert h.get("Content-Length") == str(len(again[1])) and not h.get("Transfer-Encoding"), \
                        f"{name}: {h.items()}"
                assert streamed[0] == first[0] == again[0] == 200, (name, streamed[0], first[0])
                assert first[1] == streamed[1] and again[1] == streamed[1], \
                    f"{name} {cookie}: cached page differs:\n{first[1][:300]!r}\n{streamed[1][:300]!r}"
            # gzip after the cache: the page in memory buffers, compressed
            if name != "empty.html":
                zs, zb = ng.get(f"/{name}", "userid=u2", gzip=True)
                n += 1
                assert zb == ng.get(f"/streamed/{name}", "userid=u2")[1], f"{name}: gzip"
                n += 1
            # the global config is the user's own, even from the cache
            _, b2 = ng.get(f"/{name}", "userid=u2")
            _, b9 = ng.get(f"/{name}", "userid=u9")
            n += 2
            if name != "plain.html" and name != "empty.html":
                assert b'"beta": true' in b2 and b'"beta": false' in b9 and b"v2" in b2, (name, b2[:200])
        ng.statuses(n)
        st = [x for ln, x in zip(ng.access(), ng.statuses(n)) if not ln.startswith("/streamed/")]
        # per page: one MISS per (page, version), the rest HITs; the empty page is not cached
        # (nothing to gain); the streamed references (sendfile off) are left out
        cached = len(pages()) - 1
        counts = (st.count("MISS"), st.count("HIT"), st.count(""))
        assert counts == (2 * cached, 7 * cached, 8), (counts, st)
        check_log(ng)
        return f"{len(pages())} kinds of page x 3 users: cached == streamed byte for byte; " \
               f"{st.count('MISS')} misses, {st.count('HIT')} hits"
    finally:
        ng.stop()


def t_replace(args):
    ng = Nginx(args.nginx, args.module, workers_n=2).start()
    stop = threading.Event()
    try:
        old = "<html><head></head><body>" + "old page " * 5000 + "</body></html>\n"
        new = "<html><head></head><body>" + "new page " * 5000 + "</body></html>\n"  # same size
        ng.write("html/v1/page.html", old)
        want_old = ng.get("/streamed/page.html")[1]
        ng.write("html/v1/page.html", new)
        want_new = ng.get("/streamed/page.html")[1]
        assert want_old != want_new
        seen, bad = {"old": 0, "new": 0}, []

        def load():
            while not stop.is_set():
                s, b = ng.get("/page.html")
                if s == 200 and b == want_old:
                    seen["old"] += 1
                elif s == 200 and b == want_new:
                    seen["new"] += 1
                else:
                    bad.append((s, len(b), b[:80]))

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        path = os.path.join(ng.prefix, "html/v1/page.html")
        swaps = 0
        t0 = time.time()
        while time.time() - t0 < args.duration:
            # a deploy: the new file written beside, renamed over the old one
            text = old if swaps % 2 == 0 else new
            with open(path + ".tmp", "w") as f:
                f.write(text)
            aged(path + ".tmp", 60)
            os.rename(path + ".tmp", path)
            swaps += 1
            # the next request shows the file as it is now
            s, b = ng.get("/page.html")
            if b != (want_old if text == old else want_new):
                bad.append(("after swap", swaps, b[:60]))
        stop.set()
        for t in threads:
            t.join()
        assert not bad, bad[:3]
        assert seen["old"] > 10 and seen["new"] > 10, seen
        hits = sum(1 for ln in ng.access() if ln.endswith(" HIT"))
        assert hits > 100, f"only {hits} answers came from the cache"
        # rewritten in place (same inode; an editor, rsync --inplace), without load: the
        # next request sees it (a reader during such a write sees a torn file, as with plain
        # nginx, so no load here)
        for i in range(20):
            text = old if i % 2 else new
            with open(path, "r+") as f:
                f.write(text)
                f.truncate()
            aged(path, 60)
            s, b = ng.get("/page.html")
            assert b == (want_old if text == old else want_new), (i, b[:60])
        check_log(ng)
        return f"{swaps} replacements under load: {seen['old']} old and {seen['new']} new pages " \
               f"({hits} from the cache), none mixed; each new file seen by the next request; 20 in-place rewrites seen"
    finally:
        stop.set()
        ng.stop()


def t_fresh(args):
    ng = Nginx(args.nginx, args.module).start()
    try:
        ng.write("html/v1/fresh.html", "<html><head></head><body>just deployed</body></html>", age=0)
        for _ in range(3):
            ng.get("/fresh.html")
        aged(os.path.join(ng.prefix, "html/v1/fresh.html"), 60)
        ng.get("/fresh.html")
        ng.get("/fresh.html")
        st = ng.statuses(5)
        assert st == ["MISS", "MISS", "MISS", "MISS", "HIT"], st
        check_log(ng)
        return "a file changed in the last 2 s is served, not kept; once settled it is"
    finally:
        ng.stop()


def t_bound(args):
    ng = Nginx(args.nginx, args.module, cache="frontend_gray_render_cache 1m;")
    body = "<html><head></head><body>" + "<p>card</p>" * 14000 + "</body></html>\n"  # ~200 KB
    for i in range(120):
        ng.write(f"html/v1/p{i}.html", body.replace("card", f"card {i:03d}"))
    ng.start()
    try:
        pid = workers(ng.proc.pid)[0]
        ng.get("/p0.html")  # the worker's own memory for one page
        rss0 = rss_kb(pid)
        for i in range(120):
            s, b = ng.get(f"/p{i}.html")
            assert s == 200 and f"card {i:03d}".encode() in b
        rss1 = rss_kb(pid)
        files = memfd_bytes(pid)
        ng.get("/p119.html")
        ng.get("/p0.html")
        st = ng.statuses(123)
        assert st[:2] == ["MISS", "HIT"] and st[2:121] == ["MISS"] * 119, st
        assert st[-2:] == ["HIT", "MISS"], st[-2:]  # p119 kept, p0 evicted long ago
        grown = rss1 - rss0
        assert 0 < files <= 1024 * 1024, f"the pages' memory files hold {files} bytes"
        assert grown * 1024 + files <= 1536 * 1024, f"worker RSS +{grown} KB and {files} bytes of pages"
        check_log(ng)
        return f"120 pages of {len(body) // 1024} KB through a 1 MB cache: pages {files // 1024} KB " \
               f"(memory files), worker RSS +{grown} KB; newest hit, oldest evicted"
    finally:
        ng.stop()


def t_replay_bound(args):
    ng = Nginx(args.nginx, args.module, cache="frontend_gray_render_cache 1m;")
    body = "<html><head></head><body>" + "<p>card</p>" * 7000 + "</body></html>\n"  # ~100 KB
    for i in range(120):
        ng.write(f"html/v1/p{i}.html", body.replace("card", f"card {i:03d}"))
    ng.start()
    try:
        pid = workers(ng.proc.pid)[0]
        ng.get("/proxied/p0.html")  # the worker's own memory for one page
        ng.get("/proxied/p0.html")
        rss0 = rss_kb(pid)
        for i in range(120):
            s, b = ng.get(f"/proxied/p{i}.html")
            assert s == 200 and f"card {i:03d}".encode() in b
        rss1 = rss_kb(pid)
        ng.get("/proxied/p119.html")
        ng.get("/proxied/p0.html")
        st = ng.statuses(124, "/proxied/")
        assert st[:3] == ["MISS", "HIT", "HIT"] and st[3:122] == ["MISS"] * 119, st
        assert st[-2:] == ["HIT", "MISS"], st[-2:]  # p119 kept, p0 evicted long ago
        grown = rss1 - rss0
        # source and page of each recording (~200 KB) within the 1 MB, and the allocator's slack
        assert grown <= 1536, f"worker RSS +{grown} KB"
        check_log(ng)
        return f"120 proxied pages of {len(body) // 1024} KB through a 1 MB budget: worker RSS " \
               f"+{grown} KB; newest replayed, oldest evicted"
    finally:
        ng.stop()


def t_reload(args):
    ng = Nginx(args.nginx, args.module).start()
    try:
        ng.get("/spa.html")
        ng.get("/spa.html")
        old = set(workers(ng.proc.pid))
        ng.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline and (set(workers(ng.proc.pid)) & old or not workers(ng.proc.pid)):
            time.sleep(0.05)
        ng.get("/spa.html")
        st = ng.statuses(3)
        assert st == ["MISS", "HIT", "MISS"], st
        check_log(ng)
        return "MISS, HIT, reload, MISS"
    finally:
        ng.stop()


def t_replay(args):
    ng = Nginx(args.nginx, args.module).start()
    ref = Nginx(args.nginx, args.module, cache="frontend_gray_render_cache off;").start()
    try:
        n = 0
        for name in pages():
            for cookie in ("", "userid=u2", "userid=u9"):
                want = ref.get(f"/proxied/{name}", cookie)
                for _ in range(2):
                    got = ng.get(f"/proxied/{name}", cookie)
                    n += 1
                    assert got == want, f"{name} {cookie}: replayed page differs:\n{got[1][:300]!r}\n{want[1][:300]!r}"
        st = ng.statuses(n, "/proxied/")
        cached = len(pages()) - 1
        counts = (st.count("MISS"), st.count("HIT"), st.count(""))
        # per page: a MISS per version, the rest HITs; the empty page has nothing to record
        assert counts == (2 * cached, 4 * cached, 6), (counts, st)
        # the origin's page changes: every answer is the new page whole, recorded again
        base = pages()["ssr.html"]
        mid = len(base) // 2
        changes = {
            "a byte early": base[:40] + "X" + base[41:],
            "a byte in the middle": base[:mid] + "<" + base[mid + 1:],
            "the last byte": base[:-1] + "!",
            "cut": base[: mid + 17],
            "extended": base + "<p>more</p>",
            "a new tail": base[:mid] + "</body></html>",
        }
        done = n
        for what, text in changes.items():
            for ngx in (ng, ref):
                ngx.write("html/v1/chg.html", base)
            for _ in range(2):
                assert ng.get("/proxied/chg.html", "userid=u9") == ref.get("/proxied/chg.html", "userid=u9")
            for ngx in (ng, ref):
                ngx.write("html/v1/chg.html", text)
            want = ref.get("/proxied/chg.html", "userid=u9")
            for _ in range(2):
                got = ng.get("/proxied/chg.html", "userid=u9")
                assert got == want, f"{what}: {got[1][-200:]!r} != {want[1][-200:]!r}"
            done += 4
        st = ng.statuses(done, "/proxied/")[n:]
        # per change: the old page (recorded, replayed), the new one (recorded, replayed); the
        # first old page is a HIT after the first change (it is the same page again)
        assert st[:4] == ["MISS", "HIT", "MISS", "HIT"], st
        assert st[4:] == (["MISS", "HIT", "MISS", "HIT"]) * (len(changes) - 1), st
        # a page rendered per request: recorded once, then volatile, streamed as it comes
        ids = set()
        for _ in range(4):
            s, b = ng.get("/dyn/page.html", "userid=u2")
            m = re.search(rb"<p>([0-9a-f]{32})</p>", b)
            assert s == 200 and m and b"<meta name=release content=v2>" in b, b
            ids.add(m.group(1))
        assert len(ids) == 4, ids
        dyn = ng.statuses(4, "/dyn/")
        assert dyn == ["MISS", "", "", ""], dyn
        check_log(ng)
        return f"{len(pages())} kinds of page x 3 users replayed == streamed; {len(changes)} kinds " \
               "of change served whole and recorded again; a per-request page goes volatile"
    finally:
        ng.stop()
        ref.stop()


TESTS = [("equal", t_equal), ("replace", t_replace), ("fresh", t_fresh), ("bound", t_bound),
         ("reload", t_reload), ("replay", t_replay),
         ("replay-bound", t_replay_bound)]


def main():
    def more(ap):
        ap.add_argument("--duration", type=int, default=int(os.environ.get("DURATION", "5")))
    failed = run_tests(TESTS, "cache", more)
    if not failed:
        for p in PREFIXES:
            shutil.rmtree(p, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
