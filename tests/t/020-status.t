# frontend_gray_status (SPEC §9): counters per app and deployment in the shared zone, answered
# as JSON, Prometheus text or the HTML dashboard. (Exactness over 4 workers, promtool and a
# real Prometheus: tests/status/run.py.)

=== TEST 1: every kind and status class is counted per deployment; JSON by default
--- yaml
grayKey: userid
indexPaths: ["/app/manifest.json"]
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
rewrite:
  indexRouting: {"/": "/app/{version}/index.html"}
  fileRouting: {"/": "/app/{version}"}
--- user_files
>>> html/app/v1/index.html
base page
>>> html/app/v2/index.html
gray page
>>> html/app/v1/a.js
base js
>>> html/app/v1/app/manifest.json
{}
--- config
location / { frontend_gray gray.yaml; root html; log_not_found off; }
location /gray/status { frontend_gray_status; }
--- request
GET /
--- error_code: 200
--- request
GET /
--- more_headers
Cookie: userid=u1
--- error_code: 200
--- request
GET /a.js
--- error_code: 200
--- request
GET /missing.js
--- error_code: 404
--- request
GET /app/manifest.json
--- error_code: 200
--- request
GET /gray/status
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"generation":0,"apps":\{"gray":\{"config":"[^"]*/conf/gray.yaml","mode":"rules","pinned":null,"deployments":\{"base":\{"version":"v1","enabled":true,"weight":100,"state":"active","entries":1,"assets":2,"manifests":1,"status":\{"entry":\{"2xx":1,"3xx":0,"4xx":0,"5xx":0\},"asset":\{"2xx":1,"3xx":0,"4xx":1,"5xx":0\},"manifest":\{"2xx":1,"3xx":0,"4xx":0,"5xx":0\}\},"asset404":1,"jsErrors":0,"newUsers":0,"bytes":[1-9]\d*,"rollout":null,"guard":null\},"beta":\{"version":"v2","enabled":true,"weight":0,"state":"active","entries":1,"assets":0,"manifests":0,"status":\{"entry":\{"2xx":1,"3xx":0,"4xx":0,"5xx":0\},"asset":\{"2xx":0,"3xx":0,"4xx":0,"5xx":0\},"manifest":\{"2xx":0,"3xx":0,"4xx":0,"5xx":0\}\},"asset404":0,"jsErrors":0,"newUsers":0,"bytes":[1-9]\d*,"rollout":null,"guard":null\}\}\}\}\}$
--- no_error_log
\[error\]

=== TEST 2: 5xx of a proxied origin, new users in percentage mode, bytes as sent
--- yaml
name: shop
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true, weight: 50}
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; location / { return 503 "down"; } }
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
location = /fixed { frontend_gray gray.yaml; try_files /.none @served1; }
location @served1 { return 200 "0123456789"; }
location /gray/status { frontend_gray_status; }
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user-with-base
--- error_code: 503
--- request
GET /x.js
--- more_headers
Cookie: x-higress-uid=user-with-base
--- error_code: 503
--- request
GET /fixed
--- error_code: 200
--- request
GET /gray/status?format=json
--- response_body_like
"shop":\{"config":"[^"]*gray.yaml","mode":"percentage".*"newUsers":1,
--- request
GET /gray/status?format=prometheus
--- response_body_like
frontend_gray_requests_total\{app="shop",deployment="[a-z]+",version="v\d",kind="entry",status="5xx"\} 1\n.*frontend_gray_requests_total\{app="shop",deployment="[a-z]+",version="v\d",kind="asset",status="5xx"\} 1\n.*frontend_gray_new_users_total\{app="shop",deployment="[a-z]+",version="v\d"\} 1\n.*frontend_gray_weight\{app="shop",deployment="base",version="v1"\} 50\n

=== TEST 3: the format by query argument or Accept; an unknown one is a 400
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served2; }
location @served2 { return 200; }
location /gray/status { frontend_gray_status; }
--- request
GET /gray/status
--- more_headers
Accept: text/plain
--- response_headers
Content-Type: text/plain; version=0.0.4; charset=utf-8
--- response_body_like
^# HELP frontend_gray_requests_total .*\nfrontend_gray_pinned\{app="gray",version="v1"\} 0\n.*frontend_gray_state\{app="gray",deployment="base",version="v1",state="active"\} 1\n
--- request
GET /gray/status?format=html
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like
<body data-write="off">
--- request
GET /gray/status
--- more_headers
Accept: text/html,application/xhtml+xml,*/*;q=0.8
--- response_body_like
^<!doctype html>
--- request
GET /gray/status/
--- more_headers
Accept: */*
--- response_headers
Content-Type: application/json
--- request
GET /gray/status?format=xml
--- error_code: 400
--- response_body
{"error":"format must be json, prometheus or html"}
--- request
HEAD /gray/status
--- error_code: 200
--- response_body:

=== TEST 4: one app's JSON under apps/; unknown URIs, apps and methods
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served3; }
location @served3 { return 200; }
location /gray/status { frontend_gray_status; }
--- request
GET /gray/status/apps/gray
--- error_code: 200
--- response_body_like
^\{"config":"[^"]*gray.yaml","mode":"rules","pinned":null,"deployments":\{"base":\{"version":"v1",
--- request
GET /gray/status/apps/other
--- error_code: 404
--- response_body
{"error":"unknown app"}
--- request
GET /gray/status/else
--- error_code: 404
--- request
POST /gray/status
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- request
DELETE /gray/status/apps/gray
--- error_code: 405
--- response_headers
Allow: GET, HEAD

=== TEST 5: counters survive a reload; a new version starts at zero
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served4; }
location @served4 { return 200; }
location /gray/status { frontend_gray_status; }
--- request
GET /
--- repeat: 3
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- request
GET /
--- request
GET /gray/status
--- response_body_like
"base":\{"version":"v1","enabled":true,"weight":100,"state":"active","entries":4,.*"beta":\{"version":"v2","enabled":true,"weight":0,"state":"active","entries":0,
--- reload
baseDeployment: {version: v3}
--- request
GET /gray/status
--- response_body_like
"base":\{"version":"v3","enabled":true,"weight":100,"state":"active","entries":0,

=== TEST 6: the app name is the YAML's name:, else the file name; a name used by two files fails nginx -t
--- yaml: a.yaml
name: same
baseDeployment: {version: v1}
--- yaml: b.yaml
name: same
baseDeployment: {version: v2}
--- config
location /a { frontend_gray a.yaml; try_files /.none @served5; }
location @served5 { return 200; }
location /b { frontend_gray b.yaml; try_files /.none @served6; }
location @served6 { return 200; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*b.yaml": app name "same" is already used by file "[^"]*a.yaml": give one of them its own "name:"

=== TEST 7: one file in two locations is one app
--- yaml: app1.yaml
baseDeployment: {version: v1}
--- config
location /a { frontend_gray app1.yaml; try_files /.none @served7; }
location @served7 { return 200; }
location /b { frontend_gray app1.yaml; try_files /.none @served8; }
location @served8 { return 200; }
location /gray/status { frontend_gray_status; }
--- request
GET /a
--- request
GET /b
--- request
GET /gray/status
--- response_body_like
^\{"generation":0,"apps":\{"app1":\{.*"entries":2,

=== TEST 8: a name: that cannot go into a URL or a label fails nginx -t
--- yaml
name: "a b"
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served9; }
location @served9 { return 200; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": name: "a b" must be 1-64 letters

=== TEST 9: frontend_gray_zone below 32k fails nginx -t
--- yaml
baseDeployment: {version: v1}
--- http_config
frontend_gray_zone 16k;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served10; }
location @served10 { return 200; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray_zone": invalid size "16k": at least 32k

=== TEST 10: frontend_gray_status takes write=on or write=off only
--- yaml
baseDeployment: {version: v1}
--- config
location /gray/status { frontend_gray_status write=yes; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray_status": invalid parameter "write=yes"

=== TEST 11: a full zone drops new keys with one warning and keeps serving
--- yaml eval
"rules:\n" + "".join(f"- {{name: d{i}, grayKeyValue: [u{i}]}}\n" for i in range(400)) + "grayKey: userid\nbaseDeployment: {version: v0}\ngrayDeployments:\n" + "".join(f"- {{name: d{i}, version: v{i + 1}, enabled: true}}\n" for i in range(400))
--- http_config
frontend_gray_zone 32k;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served11; }
location @served11 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status; }
--- request
GET /
--- more_headers
Cookie: userid=u399
--- response_body
v400
--- request
GET /
--- response_body
v0
--- request
GET /gray/status
--- response_body_like
"base":\{"version":"v0","enabled":true,"weight":100,"state":"active","entries":1,.*"d399":\{"version":"v400","enabled":true,"weight":0,"state":"active","entries":0,
--- error_log
\[warn\] .*frontend_gray: zone "frontend_gray" \(32k\) is full: app "gray" deployment "d\d+" and the ones after it are not counted

=== TEST 12: frontend_gray_zone off: no zone, nothing counted, nothing steered; requests are served
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- http_config
frontend_gray_zone off;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served12; }
location @served12 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- request
GET /
--- response_body
v1
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 400
--- response_body
{"error":"frontend_gray_zone is off: nothing can be steered"}
--- request
GET /gray/status
--- response_body_like
^\{"generation":0,"apps":\{"gray":\{.*"entries":0,
