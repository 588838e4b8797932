# The module next to the nginx modules that operators' nginx builds carry (nginx.org's and
# Debian's packages): auth_request, addition, gzip_static. Runs on both builds (Debian's nginx
# and the vendored one, configured with nginx.org's module set).

=== TEST 1: auth_request in front of an entry: the entry still gets its version, cookie and injection; the auth subrequest is not decided
--- yaml
grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
baseDeployment: {version: base}
grayDeployments: [{name: beta, version: gray, enabled: true}]
injection: {head: ['<meta name="v" content="{version}">']}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    # allows only the subrequest's own URI: a decided (rewritten) /auth would be refused
    location = /auth { if ($http_x_deny) { return 403; } return 204; }
    location / { return 403; }
}
--- config
frontend_gray gray.yaml;
location / {
    auth_request /auth;
    root html;
}
location = /auth {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    proxy_pass_request_body off;
    proxy_set_header Content-Length "";
}
--- user_files
>>> html/mfe/gray/index.html
<html><head><title>{version}</title></head><body>gray</body></html>
--- request
GET /
--- more_headers
Cookie: userid=00000002
--- error_code: 200
--- response_headers_like
Set-Cookie: ^x-higress-tag=gray; Max-Age=
--- response_body
<html><head><title>gray</title><meta name="v" content="gray"></head><body>gray</body></html>
--- request
GET /
--- more_headers
Cookie: userid=00000002
X-Deny: 1
--- error_code: 403
--- response_headers
!Set-Cookie

=== TEST 2: addition: add_before_body / add_after_body around a rewritten entry; the parts are subrequests, served as they are
--- yaml
grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
baseDeployment: {version: base}
grayDeployments: [{name: beta, version: gray, enabled: true}]
injection: {body: {first: ['<i>first {version}</i>'], last: ['<i>last</i>']}}
--- config
location / {
    frontend_gray gray.yaml;
    root html;
    add_before_body /parts/before.html;
    add_after_body /parts/after.html;
}
--- user_files
>>> html/parts/before.html
<!-- before -->
>>> html/parts/after.html
<!-- after -->
>>> html/mfe/app1/gray/index.html
<html><head></head><body>v={version}</body></html>
--- request
GET /app1
--- more_headers
Cookie: userid=00000002
--- response_headers_like
Set-Cookie: ^x-higress-tag=gray; Max-Age=
--- response_body
<!-- before -->
<html><head></head><body><i>first gray</i>v=gray<i>last</i></body></html>
<!-- after -->

=== TEST 3: gzip_static: an asset's precompressed .gz is still served, from the user's version
--- yaml
rewrite:
  fileRouting: {/: '/mfe/{version}'}
baseDeployment: {version: base}
grayDeployments: [{name: beta, version: gray, enabled: true}]
rules: [{name: beta, grayKeyValue: ['00000002']}]
grayKey: userid
--- config
location / { frontend_gray gray.yaml; root html; gzip_static on; }
# a real .gz (binary) is put in place over WebDAV by the first step
location /put/ { alias $TEST_NGINX_PREFIX/html/; dav_methods PUT; create_full_put_path on; }
--- user_files
>>> html/mfe/gray/js/app.js
console.log("plain gray");
--- raw_request eval
(lambda body: b"PUT /put/mfe/gray/js/app.js.gz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)(gzip.compress(b"precompressed gray copy\n"))
--- raw_response_like
^HTTP/1.1 201
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=gray
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body
precompressed gray copy
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_headers
!Content-Encoding
--- response_body
console.log("plain gray");

=== TEST 4: gzip_static: an HTML entry with index.html.gz beside it is rewritten (injection, {version}) and reaches a gzip-accepting client compressed by gzip
--- yaml
grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
baseDeployment: {version: base}
grayDeployments: [{name: beta, version: gray, enabled: true}]
injection: {head: ['<meta name="v" content="{version}">']}
--- config
gzip on;
gzip_min_length 1;
location / { frontend_gray gray.yaml; root html; gzip_static on; }
location /put/ { alias $TEST_NGINX_PREFIX/html/; dav_methods PUT; create_full_put_path on; }
--- user_files
>>> html/mfe/gray/index.html
<html><head><title>{version}</title></head><body>{version}</body></html>
--- raw_request eval
(lambda body: b"PUT /put/mfe/gray/index.html.gz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)(gzip.compress(b"stale precompressed copy, never served for an entry\n"))
--- raw_response_like
^HTTP/1.1 201
--- request
GET /
--- more_headers
Cookie: userid=00000002
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_headers_like
Set-Cookie: ^x-higress-tag=gray; Max-Age=
--- response_body
<html><head><title>gray</title><meta name="v" content="gray"></head><body>gray</body></html>
