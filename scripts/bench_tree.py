"""The bench's document tree: entry pages of every kind (an SPA index, a tag-dense
server-rendered page), a 100 KB asset, the module's YAML files, and a JWT for the rule of
conditions. Used by bench.py."""

import base64
import json
import os
import shutil
import subprocess
import time

def spa_index(size, version_marker="{version}"):
    """A realistic SPA index: meta/link tags, ~30 script tags, inline JSON, {version} a few times."""
    head = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="app-version" content="{version_marker}">',
            '<title>Console</title>',
            f'<link rel="stylesheet" href="/app1/static/css/main.{version_marker}.css">']
    for i in range(8):
        head.append(f'<link rel="preload" href="/app1/static/js/chunk-{i}.js" as="script">')
    head.append('<script type="application/json" id="boot">{"env":"prod","release":"%s","features":{"a":true,"b":false}}</script>' % version_marker)
    head.append('<style>' + 'body{margin:0}.app{display:flex}.nav a{color:#333}' * 8 + '</style>')
    head.append('</head>')
    body = ['<body>', '<div id="root"></div>']
    for i in range(30):
        body.append(f'<script src="/app1/static/js/chunk-{i}.{i * 7919 % 100000:05d}.js" defer></script>')
    tail = ['</body>', '</html>', '']
    page = "\n".join(head + body)
    # the rest: server-rendered state as inline JSON (as Next.js / Nuxt pages carry it)
    pad = size - len(page) - len("\n".join(tail)) - 80
    item = '{"id":%d,"name":"item %d","tags":["a","b"],"price":12.5,"href":"/app1/items/%d"},'
    items, n = [], 0
    while sum(map(len, items)) < pad:
        items.append(item % (n, n, n))
        n += 1
    page += '\n<script id="__STATE__" type="application/json">{"items":[' + "".join(items).rstrip(",") + ']}</script>'
    return page + "\n" + "\n".join(tail)


def ssr_page(size, version_marker="{version}"):
    """A server-rendered page: a tag every ~15 bytes (cards), a JSON state blob, 30 script tags."""
    head = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="app-version" content="{version_marker}">',
            '<title>Catalogue</title>',
            f'<link rel="stylesheet" href="/app1/static/css/main.{version_marker}.css">',
            '</head>', '<body>', '<div id="root"><main class="grid">']
    scripts = [f'<script src="/app1/static/js/chunk-{i}.{i * 7919 % 100000:05d}.js" defer></script>' for i in range(30)]
    tail = ['</main></div>', None] + scripts + ['</body>', '</html>', '']
    # a JSON state blob of about a tenth of the page (the data the cards were rendered from)
    item = '{"id":%d,"title":"Title %d","href":"/item/%d"},'
    items, n = [], 0
    while sum(map(len, items)) < size // 10:
        items.append(item % (n, n, n))
        n += 1
    tail[1] = '<script id="__STATE__" type="application/json">{"items":[' + "".join(items).rstrip(",") + ']}</script>'
    fixed = len("\n".join(head + tail)) + 1
    card = '<div class="card"><h3>Title %d</h3><p>Some text here</p><a href="/item/%d">more</a></div>\n'
    cards, n, total = [], 0, 0
    while fixed + total < size:
        c = card % (n, n)
        cards.append(c)
        total += len(c)
        n += 1
    return "\n".join(head) + "\n" + "".join(cards) + "\n".join(tail)


HEAD = '<script>window.__GRAY__={v:"{version}"}</script>'
FIRST = '<div id="gray-banner" hidden></div>'
LAST = '<script>console.debug("gray {version}")</script>'

YAML = """grayKey: userid
rules:
  - name: beta-user
    grayKeyValue: ['00000002']
baseDeployment: {version: base}
grayDeployments:
  - {name: beta-user, version: gray, enabled: true%(weight)s}
rewrite:
  indexRouting:
    /app1: '/mfe/app1/{version}/index.html'
    /big: '/mfe/app1/{version}/big.html'
    /ssr-big: '/mfe/app1/{version}/ssr.html'
    /ssr-small: '/mfe/app1/{version}/ssr-small.html'
  fileRouting:
    /app1/: '/mfe/app1/{version}'
injection:
  head: ['%(head)s']
  body:
    first: ['%(first)s']
    last: ['%(last)s']
"""


def write_tree(root):
    for v in ("base", "gray"):
        d = os.path.join(root, "html/mfe/app1", v)
        os.makedirs(os.path.join(d, "js"), exist_ok=True)
        with open(os.path.join(d, "index.html"), "w") as f:
            f.write(spa_index(30 * 1024))
        with open(os.path.join(d, "big.html"), "w") as f:
            f.write(spa_index(300 * 1024))
        with open(os.path.join(d, "ssr.html"), "w") as f:
            f.write(ssr_page(300 * 1024))
        with open(os.path.join(d, "ssr-small.html"), "w") as f:
            f.write(ssr_page(30 * 1024))
        with open(os.path.join(d, "js/app.js"), "w") as f:
            line = "function f%d(a,b){return a*b+%d;}\n"
            f.write("".join(line % (i, i) for i in range(100 * 1024 // 30))[:100 * 1024])
        # deployed a minute ago, as served files are (the render cache keeps settled files)
        for dirpath, _, files in os.walk(d):
            for name in files:
                t = time.time() - 60
                os.utime(os.path.join(dirpath, name), (t, t))
    for name, weight in (("rules.yaml", ""), ("pct.yaml", ", weight: 50")):
        with open(os.path.join(root, "conf", name), "w") as f:
            f.write(YAML % {"weight": weight, "head": HEAD, "first": FIRST, "last": LAST})
    # a rule of five conditions: header, ip, os, an RS256 JWT claim and an nginx variable
    cond = YAML % {"weight": "", "head": HEAD, "first": FIRST, "last": LAST}
    cond = cond.replace("""    grayKeyValue: ['00000002']
""", """    match:
      - header: {name: X-Canary, values: ['1']}
      - ip: ['127.0.0.0/8']
      - os: [ios, android]
      - jwt: {claim: role, values: [beta-tester]}
      - variable: {name: http_x_plan, values: [gold]}
""")
    cond = "jwt: {header: Authorization, keys: keys/rsa-public.pem}\n" + cond
    os.makedirs(os.path.join(root, "conf", "keys"), exist_ok=True)
    shutil.copy(os.path.join(KEYS, "rsa-public.pem"), os.path.join(root, "conf", "keys"))
    with open(os.path.join(root, "conf", "cond.yaml"), "w") as f:
        f.write(cond)


KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "tests", "data", "jwt")


def rs256_token(claims):
    """An RS256 token signed with the test key (openssl, no Python JWT library needed)."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    signing = b64(b'{"alg":"RS256","typ":"JWT"}') + b"." + b64(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(KEYS, "rsa-private.pem"), "-binary"],
                         input=signing, capture_output=True, check=True).stdout
    return (signing + b"." + b64(sig)).decode()
