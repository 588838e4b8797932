# Rewriting (SPEC §5) for root and proxy_pass origins, the x-higress-tag request header, and
# acting once per client request (SPEC §2).

=== TEST 1: static root: indexRouting for HTML entries, fileRouting for assets
--- yaml
grayKey: userid
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
rewrite:
  indexRouting:
    /app1: '/mfe/app1/{version}/index.html'
    /: '/mfe/app1/{version}/index.html'
  fileRouting:
    /: '/mfe/app1/{version}'
    /app1/: '/mfe/app1/{version}'
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/app1/base/index.html
base index
>>> html/mfe/app1/gray/index.html
gray index
>>> html/mfe/app1/base/js/a.js
base js
>>> html/mfe/app1/gray/js/a.js
gray js
>>> html/mfe/app1/gray/js/template/a.js
gray template js
--- request
GET /app1
--- response_body
base index
--- request
GET /app1
--- more_headers
Cookie: userid=00000002
--- response_body
gray index
--- request
GET /app123
--- more_headers
Cookie: userid=00000002
--- response_body
gray index
--- request
GET /app1/index.html
--- more_headers
Cookie: userid=00000002
--- response_body
gray index
--- request
GET /app1/x/y
--- more_headers
Cookie: userid=00000002
--- response_body
gray index
--- request
GET /
--- response_body
base index
--- request
GET /js/a.js
--- more_headers
Cookie: userid=00000002
--- response_body
gray js
--- request
GET /app1/js/a.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
gray js
--- response_headers
Content-Type: application/javascript
--- request
GET /app1/js/template/a.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
gray template js
--- request
GET /app1/js/a.js
--- response_body
base js

=== TEST 2: indexRouting key with a trailing slash matches the path with the slash kept
--- yaml
rewrite:
  indexRouting:
    /app1/: '/mfe/{version}/app1.html'
    /: '/mfe/{version}/root.html'
baseDeployment: {version: b}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/b/app1.html
app1
>>> html/mfe/b/root.html
root
--- request
GET /app1/
--- response_body
app1
--- request
GET /app1
--- response_body
root

=== TEST 3: proxy_pass origin: rewritten URI with query string, $gray_host, x-higress-tag
--- yaml
grayKey: userid
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
rewrite:
  host: frontend-gray.oss.internal
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}'}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "uri=$request_uri host=$http_host tag=$http_x_higress_tag\n"; }
}
--- config
location / {
    frontend_gray gray.yaml;
    proxy_set_header Host $gray_host;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
}
--- request
GET /app1/js/a.js?v=1&x=%20y
--- more_headers
Cookie: userid=00000002
--- response_body
uri=/mfe/app1/gray/js/a.js?v=1&x=%20y host=frontend-gray.oss.internal tag=gray
--- request
GET /app1?from=mail
--- response_body
uri=/mfe/app1/base/index.html?from=mail host=frontend-gray.oss.internal tag=base

=== TEST 4: x-higress-tag sent by the client is replaced, not trusted
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "uri=$request_uri tag=$http_x_higress_tag\n"; }
}
--- config
location / {
    frontend_gray gray.yaml;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
}
--- request
GET /a.js
--- more_headers
X-Higress-Tag: gray
--- response_body
uri=/a.js tag=base

=== TEST 4a: the operator's proxy_set_header X-Higress-Tag replaces the module's, once
# the module's header carries the hash nginx's parser would give it, so proxy finds and drops
# it (nginx >= 1.23 joins repeated headers in $http_*: a second value would show)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "tag=$http_x_higress_tag\n"; }
}
--- config
location / {
    frontend_gray gray.yaml;
    proxy_set_header X-Higress-Tag "edge-$gray_version";
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
}
--- request
GET /a.js
--- response_body
tag=edge-base

=== TEST 5: $gray_host is rewrite.host where the module acted, $host where it did not (skipped path) or where no rewrite.host is set
--- yaml
baseDeployment: {version: base}
skippedPaths: ['/api/**']
rewrite: {host: cdn.internal}
--- yaml: nohost.yaml
baseDeployment: {version: base}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "host=$http_host uri=$uri\n"; }
}
--- config
location / {
    frontend_gray gray.yaml;
    proxy_set_header Host $gray_host;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
}
location /nohost/ {
    frontend_gray nohost.yaml;
    proxy_set_header Host $gray_host;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
}
--- request
GET /api/x
--- response_body
host=localhost uri=/api/x
--- request
GET /
--- response_body
host=cdn.internal uri=/
--- request
GET /a.js
--- response_body
host=cdn.internal uri=/a.js
--- request
GET /nohost/page
--- response_body
host=localhost uri=/nohost/page

=== TEST 6: index internal redirect: acted once, cookies still on the entry response
# the entry / goes to /v/base/ and nginx's index module redirects to /v/base/index.html; acting
# again would send that (an HTML path) to /v/base/ once more: a redirect loop (500), or with
# a second cookie
--- yaml
baseDeployment: {version: base}
rewrite:
  indexRouting: {/: '/v/{version}/'}
--- config
location / { frontend_gray gray.yaml; root html; add_header X-V "$gray_version $uri" always; }
--- user_files
>>> html/index.html
root index
>>> html/v/base/index.html
versioned index
--- request
GET /
--- response_body
versioned index
--- response_headers_exact
X-V: base /v/base/index.html
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
Cache-Control: no-cache, no-store, max-age=0, must-revalidate

=== TEST 7: try_files fallback is not rewritten a second time
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/: '/v/{version}'}
--- config
location / { frontend_gray gray.yaml; root html; try_files $uri /fallback.txt; }
--- user_files
>>> html/v/base/a.js
versioned
>>> html/fallback.txt
fallback
>>> html/v/base/fallback.txt
rewritten twice
--- request
GET /a.js
--- response_body
versioned
--- request
GET /missing.js
--- response_body
fallback

=== TEST 8: error_page internal redirect is not rewritten
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/: '/v/{version}'}
--- config
error_page 404 /404.html;
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/404.html
plain 404 page
>>> html/v/base/404.html
rewritten twice
--- request
GET /nothere.js
--- error_code: 404
--- response_body
plain 404 page
--- allow_error_log
open\(\) ".*/html/v/base/nothere\.js" failed

=== TEST 9: subrequests are never acted on (SSI include)
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/: '/v/{version}'}
--- config
location = /page.shtml { ssi on; default_type text/html; types { } root html; }
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/page.shtml
[<!--# include virtual="/part.txt" -->]
>>> html/part.txt
raw part
>>> html/v/base/part.txt
rewritten part
--- request
GET /page.shtml
--- response_body
[raw part
]
--- request
GET /part.txt
--- response_body
rewritten part

=== TEST 10: not found entry without html / notFoundUri: nginx's own 404
--- yaml
baseDeployment: {version: base}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- request
GET /app
--- error_code: 404
--- response_body_like
<h1>404 Not Found</h1>
--- response_headers_exact
!Set-Cookie
!Cache-Control
--- allow_error_log
open\(\) ".*/html/mfe/base/index\.html" failed
