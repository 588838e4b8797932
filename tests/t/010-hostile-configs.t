# Ordinary nginx configs around the module (SPEC §2, §5, §6): `alias`, `proxy_pass` with a URI
# part, the location's own `if` / `rewrite` / `return`, `error_page`, conditional and range
# requests for proxied entries, and routing keys that would climb out of their directory.

=== TEST 1: alias with targets under the location: the rewritten URI is mapped by alias
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
rewrite:
  indexRouting: {/application/: '/application/{version}/index.html'}
  fileRouting: {/application/: '/application/{version}'}
--- config
location /application/ { frontend_gray gray.yaml; alias $TEST_NGINX_PREFIX/srv/; }
--- user_files
>>> srv/base/index.html
base index
>>> srv/gray/index.html
gray index
>>> srv/base/x.js
base x
>>> srv/gray/x.js
gray x
--- request
GET /application/x.js
--- response_body
base x
--- request
GET /application/x.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
gray x
--- request
GET /application/
--- more_headers
Cookie: userid=u2
--- response_body
gray index
--- request
GET /application/deep/page
--- response_body
base index

=== TEST 2: alias with a target outside the location is refused at nginx -t, naming it
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/application/: '/a/{version}'}
--- config
location /application/ { frontend_gray gray.yaml; alias /srv/html/; }
--- must_die
--- error_log
"frontend_gray" in location "/application/", which uses "alias": rewrite.fileRouting./application/ targets "/a/\{version\}", outside the location

=== TEST 3: a regex location with alias cannot be rewritten: refused at nginx -t
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/: '/{version}'}
--- config
location ~ ^/re/(.*)$ { frontend_gray gray.yaml; alias /srv/html/$1; }
--- must_die
--- error_log
"frontend_gray" cannot rewrite the URI in regex location "\^/re/\(\.\*\)\$", which uses "alias": use "root"

=== TEST 4: proxy_pass with a URI part: a target under the location keeps the URI part
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/longlocationprefix/: '/longlocationprefix/{version}'}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "origin $request_uri\n"; }
}
--- config
location /longlocationprefix/ {
    frontend_gray gray.yaml;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT/origin/;
}
--- request
GET /longlocationprefix/path/to/file.js
--- response_body
origin /origin/base/path/to/file.js
--- request
GET /longlocationprefix/a.js
--- response_body
origin /origin/base/a.js

=== TEST 5: proxy_pass with a URI part: a target elsewhere reaches the origin whole, as after rewrite … break
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/longlocationprefix/: '/m/{version}'}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "origin $request_uri\n"; }
}
--- config
location /longlocationprefix/ {
    frontend_gray gray.yaml;
    proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT/origin/;
}
--- request
GET /longlocationprefix/path/to/file.js?q=1
--- response_body
origin /m/base/path/to/file.js?q=1
--- request
GET /longlocationprefix/a.js
--- response_body
origin /m/base/a.js
--- request
GET /longlocationprefix/very/long/path/that/is/longer/than/the/location/prefix/file.js
--- response_body
origin /m/base/very/long/path/that/is/longer/than/the/location/prefix/file.js

=== TEST 6: a routing key without its slash never leads out of its directory (root)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: next, version: 3.0.0, enabled: false}
rewrite:
  fileRouting: {/app1: '/mfe/app1/{version}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/app1/secret.js
secret
>>> html/mfe/app1/3.0.0/js/a.js
unreleased
>>> html/mfe/app1/base/js/a.js
base js
--- request
GET /app1/js/a.js
--- response_body
base js
--- request
GET /app1../secret.js
--- error_code: 404
--- request
GET /app1../3.0.0/js/a.js
--- error_code: 404
--- request
GET /app1%2e%2e/secret.js
--- error_code: 404
--- request
GET /app1%2E%2E%2F3.0.0/js/a.js
--- error_code: 404
--- request
GET /app1..
--- error_code: 404
--- no_error_log
open\(\) ".*secret

=== TEST 7: a routing key without its slash never leads out of its directory (proxy_pass)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: next, version: 3.0.0, enabled: false}
rewrite:
  fileRouting: {/app1: '/mfe/app1/{version}'}
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "origin $request_uri\n"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /app1/js/a.js
--- response_body
origin /mfe/app1/base/js/a.js
--- request
GET /app1../secret.js
--- error_code: 404
--- request
GET /app1%2e%2e/3.0.0/js/a.js
--- error_code: 404
--- request
GET /app1%2E%2E%2Fsecret.js
--- error_code: 404

=== TEST 8: the location's if and rewrite see the public URI; the module acts on what they leave
--- yaml
baseDeployment: {version: base}
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- yaml: other.yaml
baseDeployment: {version: other}
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- config
location /ifl/ {
    frontend_gray gray.yaml;
    root html;
    if ($uri ~ ^/ifl/blocked) { return 403; }
}
location /rw/ {
    frontend_gray gray.yaml;
    root html;
    rewrite ^/rw/old\.js$ /rw/js/a.js break;
    rewrite ^/rw/moved/(.*)$ /elsewhere/$1 last;
}
location /elsewhere/ { frontend_gray other.yaml; root html; }
--- user_files
>>> html/ifl/blocked.js
public file
>>> html/mfe/base/ifl/blocked.js
versioned file
>>> html/mfe/base/ifl/ok.js
ok js
>>> html/mfe/base/rw/js/a.js
rewritten js
>>> html/mfe/other/elsewhere/b.js
other b
--- request
GET /ifl/blocked.js
--- error_code: 403
--- request
GET /ifl/ok.js
--- response_body
ok js
--- request
GET /rw/old.js
--- response_body
rewritten js
--- request
GET /rw/moved/b.js
--- response_body
other b

=== TEST 9: $gray_version in the location's if still sees the decision
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- config
location / {
    frontend_gray gray.yaml;
    root html;
    if ($gray_version = gray) { rewrite ^ /gray-only.js break; }
}
--- user_files
>>> html/mfe/gray/gray-only.js
gray only
>>> html/mfe/base/a.js
base a
--- request
GET /a.js
--- response_body
base a
--- request
GET /a.js
--- more_headers
Cookie: userid=u1
--- response_body
gray only

=== TEST 10: a proxied entry is never answered 206 or 304 by the origin
--- yaml
baseDeployment: {version: base}
injection:
  head: ['<script>inj()</script>']
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    root html/origin;
    etag on;
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files
>>> html/origin/index.html
<html><head><title>entry page of the origin</title></head><body>hello</body></html>
>>> html/origin/a.js
0123456789abcdef
--- request
GET /index.html
--- more_headers
Range: bytes=0-10
--- error_code: 200
--- response_body
<html><head><title>entry page of the origin</title><script>inj()</script></head><body>hello</body></html>
--- response_headers
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- request
GET /index.html
--- more_headers
If-None-Match: *
If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT
--- error_code: 200
--- response_body
<html><head><title>entry page of the origin</title><script>inj()</script></head><body>hello</body></html>
--- request
GET /index.html
--- more_headers
If-Match: "nope"
If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT
If-Range: "nope"
Range: bytes=0-3
--- error_code: 200
--- response_body_like
^<html><head><title>entry page of the origin</title><script>inj\(\)</script>
--- request
GET /a.js
--- more_headers
Range: bytes=0-3
--- error_code: 206
--- response_body_like: ^0123$

=== TEST 11: a static entry is never a 206 or a 304 either
--- yaml
baseDeployment: {version: base}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><body>static entry</body></html>
--- request
GET /index.html
--- more_headers
Range: bytes=0-5
If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT
--- error_code: 200
--- response_body
<html><body>static entry</body></html>

=== TEST 12: an error_page redirect is served as configured, never decided afresh
--- yaml
baseDeployment: {version: base}
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  fileRouting: {/: '/mfe/{version}'}
--- config
frontend_gray gray.yaml;
root html;
error_page 502 /50x.html;
error_page 404 /404.html;
location /api/ { frontend_gray off; return 502; }
location = /50x.html { root errpages; }
location = /404.html { root errpages; }
--- user_files
>>> errpages/50x.html
the 50x page
>>> errpages/404.html
the 404 page
>>> html/mfe/base/index.html
base index
--- request
GET /api/x
--- error_code: 502
--- response_body
the 50x page
--- request
GET /
--- response_body
base index
--- request
GET /nothing/here.js
--- error_code: 404
--- response_body
the 404 page
--- allow_error_log
open\(\) ".*/html/mfe/base/nothing/here\.js" failed

=== TEST 13: a client's x-higress-tag never reaches the upstream, not even on skipped paths
--- yaml
baseDeployment: {version: base}
skippedPaths: ['/api/**']
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT;
    location / { return 200 "tag=$http_x_higress_tag\n"; }
}
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /api/users
--- more_headers
x-higress-tag: gray-spoofed
--- response_body
tag=
--- request
GET /page
--- more_headers
x-higress-tag: gray-spoofed
--- response_body
tag=base

=== TEST 14: an entry's caching headers are the module's alone, whatever expires / add_header add
--- yaml
baseDeployment: {version: base}
--- config
location / {
    frontend_gray gray.yaml;
    root html;
    expires 1h;
    add_header Cache-Control "public, max-age=600";
}
--- user_files
>>> html/index.html
<html><body>entry</body></html>
>>> html/a.js
asset
--- request
GET /index.html
--- response_headers
Cache-Control: no-cache, no-store, max-age=0, must-revalidate
!Expires
--- raw_response_like
(?is)^(?!.*cache-control:.*cache-control:).*\r\ncache-control: no-cache, no-store, max-age=0, must-revalidate\r\n
--- request
GET /a.js
--- response_headers
Cache-Control: public, max-age=600
Cache-Control: max-age=3600
--- response_headers_like
Expires: ^\w{3}, \d\d \w{3} \d{4}
