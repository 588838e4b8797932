# The entry response headers (SPEC §6): Cache-Control and cookies.

=== TEST 1: HTML entry: the module's Cache-Control alone (expires 1h in the location), version cookie; assets untouched
# SPEC §6: one Cache-Control and no Expires in the future, whatever `expires` adds
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
--- config
location / { frontend_gray gray.yaml; root html; expires 1h; }
--- user_files
>>> html/index.html
page
>>> html/a.js
js
--- request
GET /index.html
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_check eval
all(http_time(v) <= now() + 1 for v in r.values("Expires"))
--- request
GET /a.js
--- response_headers_exact
Cache-Control: max-age=3600
Expires ~ \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT
!Set-Cookie

=== TEST 2: HEAD gets the same headers; non-200 responses get none
--- yaml
baseDeployment: {version: base}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
page
--- request
HEAD /index.html
--- error_code: 200
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- request
GET /missing.html
--- error_code: 404
--- response_headers_exact
!Set-Cookie
!Cache-Control
--- allow_error_log
open\(\) ".*/html/missing\.html" failed

=== TEST 3: storeMaxAge, cookieDomain, cookieSecure false
--- yaml
baseDeployment: {version: base}
storeMaxAge: 600
cookieDomain: .example.com
cookieSecure: false
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok\n"; }
--- request
GET /
--- response_headers_exact
Set-Cookie: x-higress-tag=base; Max-Age=600; Path=/; HttpOnly; Domain=.example.com

=== TEST 4: uid cookie in percentage mode, refreshed with the client's uid
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 20}
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok\n"; }
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user2
--- response_headers_exact
Set-Cookie: x-higress-tag=va; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: x-higress-uid=user2; Max-Age=31536000; Path=/; HttpOnly; Secure

=== TEST 5: uid cookie in rule mode when uniqueGrayTag is configured
--- yaml
baseDeployment: {version: base}
uniqueGrayTag: my-uid
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok\n"; }
--- request
GET /
--- response_headers_exact
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie ~ my-uid=[0-9a-f]{32}; Max-Age=31536000; Path=/; HttpOnly; Secure
--- request
GET /
--- more_headers
Cookie: my-uid=keepme
--- response_headers_exact
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: my-uid=keepme; Max-Age=31536000; Path=/; HttpOnly; Secure

=== TEST 6: no uid cookie in plain rule mode (neither minted nor refreshed)
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok u=[$gray_uid]\n"; }
--- request
GET /
--- response_headers_exact
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_body
ok u=[]
--- request
GET /
--- more_headers
Cookie: userid=u1; x-higress-uid=user2
--- response_headers_exact
Set-Cookie: x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_body
ok u=[]

=== TEST 7: backend cookie: the chosen deployment's backendVersion, or cleared
--- yaml
grayKey: userid
backendGrayTag: x-mse-tag
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true, backendVersion: backend-v2}
cookieDomain: example.com
--- config
location / { frontend_gray gray.yaml; return 200 "b=$gray_backend_version\n"; }
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_headers_exact
Set-Cookie: x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure; Domain=example.com
Set-Cookie: x-mse-tag=backend-v2; Max-Age=31536000; Path=/; HttpOnly; Secure; Domain=example.com
--- response_body
b=backend-v2
--- request
GET /
--- response_headers_exact
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure; Domain=example.com
Set-Cookie: x-mse-tag=; Max-Age=0; Path=/; HttpOnly; Secure; Domain=example.com
--- response_body
b=

=== TEST 8: indexPaths: Cache-Control, no cookies unless useManifestAsEntry
--- yaml
baseDeployment: {version: base}
indexPaths: ['/**/manifest.json']
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/app/manifest.json
{"a": 1}
--- request
GET /app/manifest.json
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
!Set-Cookie
--- response_body
{"a": 1}

=== TEST 9: useManifestAsEntry: manifests get the cookies too
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 20}
indexPaths: ['/**/manifest.json']
useManifestAsEntry: true
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/app/manifest.json
{"a": 1}
--- request
GET /app/manifest.json
--- more_headers
Cookie: x-higress-uid=user2
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=va; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: x-higress-uid=user2; Max-Age=31536000; Path=/; HttpOnly; Secure

=== TEST 10: upstream Cache-Control of a proxied entry is replaced
--- yaml
baseDeployment: {version: base}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { add_header Cache-Control "public, max-age=86400"; return 200 "<html></html>\n"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate

=== TEST 11: useManifestAsEntry in rule mode: the manifest sets the version, uid and backend cookies
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true, backendVersion: be-2}
uniqueGrayTag: my-uid
indexPaths: ['/**/manifest.json']
useManifestAsEntry: true
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/app/manifest.json
{"a": 1}
--- request
GET /app/manifest.json
--- more_headers
Cookie: userid=u1; my-uid=keep-1
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: my-uid=keep-1; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: x-mse-tag=be-2; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_body
{"a": 1}
--- request
GET /app/manifest.json
--- response_headers_exact
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie ~ my-uid=[0-9a-f]{32}; Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie: x-mse-tag=; Max-Age=0; Path=/; HttpOnly; Secure
