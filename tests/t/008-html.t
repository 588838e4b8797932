# The entry page body (SPEC §6): streaming injections, {version} everywhere, headers, edges.

=== TEST 1: injections placed by the tokenizer; global config with this user's feature map; {version} everywhere
--- yaml
grayKey: userid
rules:
- {name: inner-user, grayKeyValue: ['00000001']}
- {name: beta-user, grayKeyValue: ['00000002']}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first>{version}</i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/gray/index.html
<!DOCTYPE html><HTML><HEAD lang="en"><title>{version}</title></HEAD>
<BODY class="app" data-v="{version}"><script>var s = "</body>"; // </head></script><!-- </body> --><p>v={version}</p></BODY></HTML>
--- request
GET /
--- more_headers
Cookie: userid=00000002
--- response_body
<!DOCTYPE html><HTML><HEAD lang="en"><script>var CFG = {FEAT: {"inner-user": false, "beta-user": true}, "release": "gray"};</script><title>gray</title><meta name="v" content="gray"></HEAD>
<BODY class="app" data-v="gray"><i id=first>gray</i><script>var s = "</body>"; // </head></script><!-- </body> --><p>v=gray</p><i id=last></i></BODY></HTML>
--- response_headers
!ETag
!Accept-Ranges
!Last-Modified
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
--- response_check eval
r.values("Content-Length") in ([], [str(len(r.text.encode()))])

=== TEST 2: localStorageGrayKey: the copy-to-cookie script right after <body>, then body.first
--- yaml
localStorageGrayKey: token
rules:
- {name: beta, grayKeyValue: [t1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
injection:
  body:
    first: ['<b>first</b>']
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body><p>x</p></body></html>
--- request
GET /index.html
--- more_headers
Cookie: token=t1
--- response_headers
Set-Cookie: x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_body_like
^<html><head></head><body><script>\(function\(\)\{var grayKey='token';.*localStorage\.getItem\(grayKey\).*window\.location\.reload\(\);.*</script><b>first</b><p>x</p></body></html>\n$

=== TEST 3: HEAD and non-200 responses are not processed: nginx's 404 page, an error_page, an origin's 500
--- yaml
baseDeployment: {version: base}
injection: {head: ['<meta x>'], body: {first: ['<b>f</b>'], last: ['<i>l</i>']}}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { default_type text/html; return 500 "<html><head></head><body>{version}</body></html>"; }
}
--- config
location / { frontend_gray gray.yaml; root html; }
location /err/ { frontend_gray gray.yaml; root html; error_page 404 /404.html; }
location /proxied/ { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files
>>> html/index.html
<html><head></head><body>{version}</body></html>
>>> html/404.html
<html><head></head><body>not found {version}</body></html>
--- request
HEAD /index.html
--- error_code: 200
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- request
GET /nothere.html
--- error_code: 404
--- response_body_like
\A<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx[^<]*</center>\r\n</body>\r\n</html>\r\n\Z
--- response_headers_exact
!Set-Cookie
!Cache-Control
--- request
GET /err/nothere.html
--- error_code: 404
--- response_body
<html><head></head><body>not found {version}</body></html>
--- response_headers_exact
!Set-Cookie
!Cache-Control
--- request
GET /proxied/app
--- error_code: 500
--- response_body eval
"<html><head></head><body>{version}</body></html>"
--- response_headers_exact
!Set-Cookie
!Cache-Control
--- allow_error_log
open\(\) ".*/html/nothere\.html" failed
open\(\) ".*/html/err/nothere\.html" failed

=== TEST 4: only text/html bodies are rewritten: an extension-less JSON answer keeps its body and length
--- yaml
baseDeployment: {version: base}
injection: {head: ['<meta x>']}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { default_type application/json; return 200 '{"v": "{version}", "html": "<head></head>"}'; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /api/users
--- response_body eval
'{"v": "{version}", "html": "<head></head>"}'
--- response_headers
Content-Length: 43

=== TEST 5: the upstream request of an HTML entry carries no Accept-Encoding; assets and manifests keep it
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
indexPaths: ['/**/manifest.json']
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { default_type text/html; return 200 "ae=[$http_accept_encoding]\n"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app
--- more_headers
Accept-Encoding: gzip, br
--- response_body
ae=[]
--- request
GET /app/a.js
--- more_headers
Accept-Encoding: gzip, br
--- response_body
ae=[gzip, br]
--- request
GET /app/manifest.json
--- more_headers
Accept-Encoding: gzip, br
--- response_body
ae=[gzip, br]

=== TEST 6: an encoded entry body that still arrives passes through unmodified, with a warning
--- yaml
baseDeployment: {version: base}
injection: {head: ['<meta x>']}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { default_type text/html; add_header Content-Encoding br; return 200 "<head></head>{version}"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app
--- response_body eval
"<head></head>{version}"
--- response_headers
Content-Encoding: br
--- error_log
\[warn\] .*frontend_gray: entry response arrived with Content-Encoding "br", sent unmodified

=== TEST 7: nginx's gzip still compresses the rewritten page
--- yaml
baseDeployment: {version: base}
injection: {body: {first: ['<b>in</b>']}}
--- config
gzip on;
gzip_min_length 1;
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body>{version} {version} {version} {version} {version}</body></html>
--- request
GET /index.html
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body
<html><head></head><body><b>in</b>base base base base base</body></html>

=== TEST 8: sendfile and tcp_nopush on (Debian's defaults), keep-alive: two entries and an asset on one connection
--- yaml
baseDeployment: {version: base}
injection: {head: ['<meta x>']}
rewrite:
  fileRouting: {/: '/v/{version}'}
--- config
sendfile on;
tcp_nopush on;
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body>{version}</body></html>
>>> html/v/base/a.js
var a = "{version}";
--- raw_request eval
b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /v/a.js HTTP/1.1\r\nHost: x\r\n\r\nGET /a.js HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- raw_response_like
^HTTP/1.1 200 OK.*?<html><head><meta x></head><body>base</body></html>.*?HTTP/1.1 404.*?HTTP/1.1 200 OK.*?Content-Length: 21.*?var a = "\{version\}";.*?HTTP/1.1 200 OK.*?<html><head><meta x></head><body>base</body></html>
--- allow_error_log
open\(\) ".*/html/v/base/v/a\.js" failed

=== TEST 9: HTTP/1.0 client gets the rewritten page (no chunked encoding)
--- yaml
baseDeployment: {version: base}
injection: {head: ['<meta x>']}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body>{version}</body></html>
--- raw_request eval
b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n"
--- raw_response_like
^HTTP/1.1 200 OK\r\n(?:(?!Transfer-Encoding).)*\r\n\r\n<html><head><meta x></head><body>base</body></html>\n$

=== TEST 10: an origin sending the page in tiny chunks, {version} split across them (chunked)
--- yaml
baseDeployment: {version: v7}
injection: {head: ['<meta {version}>'], body: {last: ['<i>end</i>']}}
--- origin_chunks eval
[c.encode() for c in ["<ht", "ml><he", "ad>", "<title>{ver", "sion}</ti", "tle></h", "ead", "><bo", "dy a='{", "version", "}'>", "x{", "v", "e", "r", "s", "i", "o", "n", "}y</bo", "dy></html>", "{versi", "on}"]]
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT; }
--- request
GET /app
--- response_body eval
"<html><head><title>v7</title><meta v7></head><body a='v7'>xv7y<i>end</i></body></html>v7"

=== TEST 11: the same with a Content-Length origin, and the first bytes leave before the origin's last
# the first piece fills nginx's proxy buffers (8 x 4k) so that nginx itself passes it on
--- yaml
baseDeployment: {version: v7}
injection: {head: ['<meta x>']}
--- origin_chunks eval
[b"<html><head></head><body>" + b"<p>{version}</p>" * 4000, b"<p>tail {version}</p></body></html>"]
--- origin_content_length: 1
--- origin_last_delay: 0.6
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT; }
--- request
GET /app
--- body_streams: 0.4
--- response_headers_exact
!Content-Length
!ETag
--- response_body eval
"<html><head><meta x></head><body>" + "<p>v7</p>" * 4000 + "<p>tail v7</p></body></html>"

=== TEST 12: a 52 MB page through proxy_pass: correct, and the worker RSS grows < 2 MB
--- yaml
baseDeployment: {version: v7}
injection: {head: ['<meta x>'], body: {last: ['<i>end</i>']}}
--- origin_chunks eval
[b"<html><head></head><body>"] + [(b"<div class=row><span>{version}</span> " + b"x" * 900 + b"</div>\n") * 100] * 550 + [b"</body></html>"]
--- origin_delay: 0
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT; }
--- request
GET /warmup
--- request
GET /app
--- repeat: 2
--- worker_rss_growth_kb_max: 2048
--- response_body_like
^<html><head><meta x></head><body><div class=row><span>v7</span> x{900}</div>\n(<div class=row><span>v7</span> x{900}</div>\n){54999}<i>end</i></body></html>$

=== TEST 13: html: the inline entry page, as a 200, when the versioned entry is not found (root)
--- yaml
baseDeployment: {version: base}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
html: '<html><head></head><body>inline {version}</body></html>'
injection: {head: ['<meta x>']}
--- config
location / { frontend_gray gray.yaml; root html; }
--- request
GET /app
--- error_code: 200
--- response_headers
Content-Type: text/html
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_body eval
"<html><head><meta x></head><body>inline base</body></html>"
--- allow_error_log
open\(\) ".*/html/mfe/base/index\.html" failed

=== TEST 14: html behind proxy_pass
--- yaml
baseDeployment: {version: base}
html: '<p>inline {version}</p>'
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 404 "origin 404 body"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app
--- error_code: 200
--- response_body eval
"<p>inline base</p>"

=== TEST 15: notFoundUri: that page with {version} replaced, as a 404 (root)
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  notFoundUri: /mfe/{version}/404.html
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/gray/404.html
gray not found page
--- request
GET /app
--- more_headers
Cookie: userid=u1
--- error_code: 404
--- response_body
gray not found page
--- response_headers_exact
!Set-Cookie
--- allow_error_log
open\(\) ".*/html/mfe/gray/index\.html" failed

=== TEST 16: notFoundUri behind proxy_pass
--- yaml
baseDeployment: {version: base}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  notFoundUri: /mfe/{version}/404.html
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 404 "origin 404 for $uri\n"; }
    location = /mfe/base/404.html { return 200 "custom 404 page of base\n"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app
--- error_code: 404
--- response_body
custom 404 page of base

=== TEST 17: indexPaths bodies (manifests) are never modified, even text/html ones with useManifestAsEntry
--- yaml
baseDeployment: {version: base}
indexPaths: ['/**/manifest.json']
useManifestAsEntry: true
injection: {head: ['<meta x>'], body: {first: ['<b>f</b>']}}
--- config
location / { frontend_gray gray.yaml; root html; types { text/html json; } }
--- user_files
>>> html/app/manifest.json
<html><head></head><body>{"v": "{version}"}</body></html>
--- request
GET /app/manifest.json
--- response_body
<html><head></head><body>{"v": "{version}"}</body></html>
--- response_headers_exact
Content-Type: text/html
Content-Length: 58
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure

=== TEST 18: an HTML request that matches indexPaths is an entry in every respect: indexRouting, cookies, body
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
indexPaths: ['/**/manifest.html']
rewrite:
  indexRouting: {/app/: '/mfe/{version}/app.html'}
  fileRouting: {/app/: '/mfe/{version}/files'}
injection: {head: ['<meta x>']}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/base/app.html
<html><head></head><body>{version}</body></html>
>>> html/mfe/base/files/manifest.html
routed as an asset
--- request
GET /app/manifest.html
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
<html><head><meta x></head><body>base</body></html>
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_check eval
r.values("Content-Length") in ([], [str(len(r.text.encode()))])

=== TEST 19: html and notFoundUri stand in for a missing entry only, never for a missing asset or manifest
# (the notFoundUri page is a 404: its body is not processed, SPEC §6)
--- yaml
baseDeployment: {version: base}
indexPaths: ['/**/manifest.json']
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  fileRouting: {/: '/mfe/{version}'}
html: '<p>inline {version}</p>'
--- yaml: nf.yaml
baseDeployment: {version: base}
indexPaths: ['/**/manifest.json']
rewrite:
  indexRouting: {/nf/: '/mfe/{version}/index.html'}
  fileRouting: {/nf/: '/mfe/{version}'}
  notFoundUri: /mfe/{version}/404.html
--- config
location / { frontend_gray gray.yaml; root html; }
location /nf/ { frontend_gray nf.yaml; root html; }
--- user_files
>>> html/mfe/base/404.html
custom 404 of {version}
--- request
GET /js/missing.js
--- error_code: 404
--- response_body_like
<h1>404 Not Found</h1>
--- request
GET /app/manifest.json
--- error_code: 404
--- response_body_like
<h1>404 Not Found</h1>
--- response_headers_exact
!Set-Cookie
--- request
GET /app
--- error_code: 200
--- response_body eval
"<p>inline base</p>"
--- request
GET /nf/js/missing.js
--- error_code: 404
--- response_body_like
<h1>404 Not Found</h1>
--- request
GET /nf/app/manifest.json
--- error_code: 404
--- response_body_like
<h1>404 Not Found</h1>
--- request
GET /nf/app
--- error_code: 404
--- response_body
custom 404 of {version}
--- allow_error_log
open\(\) ".*/html/mfe/base/(js/missing\.js|app/manifest\.json|index\.html)" failed
