# Run-time steering (SPEC §10): PATCH <status>/apps/<APP> with a JSON merge-patch, when
# `frontend_gray_status write=on;`. (Restart with a state file, pin under load:
# tests/status/run.py.)

=== TEST 1: without write=on every PATCH is a 403, and nothing changes
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served1; }
location @served1 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 403
--- response_body_like
\{"error":"writes are off: frontend_gray_status write=on; allows them"\}
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 403
--- request
GET /
--- response_body
v1

=== TEST 2: the one-click switch: pin beats the decision for entries, the sticky cookie beats pin for assets
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served2; }
location @served2 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like
^\{"config":"[^"]*gray.yaml","mode":"rules","pinned":"v2","deployments":
--- request
GET /
--- response_body
v2
--- request
GET /a.js
--- response_body
v2
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=v1
--- response_body
v1
--- request
GET /gray/status
--- response_body_like
^\{"generation":1,.*"pinned":"v2"
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": null}')
--- error_code: 200
--- response_body_like
"pinned":null
--- request
GET /
--- response_body
v1
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
v2
--- error_log
\[notice\] .*frontend_gray: app "gray" changed by 127\.0\.0\.1: \{"pin": "v2"\}
\[notice\] .*frontend_gray: app "gray" changed by 127\.0\.0\.1: \{"pin": null\}

=== TEST 3: weight and enabled overrides change the split; null goes back to the YAML
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served3; }
location @served3 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"enabled": false}}}')
--- response_body_like
"beta":\{"version":"v2","enabled":false,"weight":0,"state":"disabled"
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
v1
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"enabled": null, "weight": 100}}}')
--- response_body_like
"mode":"percentage".*"base":\{"version":"v1","enabled":true,"weight":0,.*"beta":\{"version":"v2","enabled":true,"weight":100,"state":"active"
--- request
GET /
--- response_body
v2
--- repeat: 5
--- request
GET /gray/status?format=prometheus
--- response_body_like
frontend_gray_weight\{app="gray",deployment="beta",version="v2"\} 100\n
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"weight": null, "reset": true}}}')
--- response_body_like
"mode":"rules"
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
v2

=== TEST 4: every refusal is a 400 with a JSON message, and changes nothing
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true, weight: 10}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served4; }
location @served4 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": ')
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body_like
\{"error":"body is not JSON: EOF while parsing
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v7"}')
--- error_code: 400
--- response_body_like
\{"error":"unknown version \\"v7\\" \(configured: v1, v2\)"\}
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"gamma": {"weight": 5}}}')
--- error_code: 400
--- response_body_like
\{"error":"unknown deployment \\"gamma\\" \(configured: base, beta\)"\}
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"weight": 101}}}')
--- error_code: 400
--- response_body_like
\{"error":"deployments.beta.weight: 101 is outside 0-100"\}
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"rollout": "pause"}}}')
--- error_code: 400
--- response_body_like
\{"error":"deployments.beta.rollout: the deployment has no rollout"\}
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2", "deployments": {"base": {"enabled": false}}}')
--- error_code: 400
--- response_body_like
\{"error":"deployments.base: the base deployment
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}' + b" " * 17000)
--- error_code: 400
--- response_body_like
\{"error":"body over 16384 bytes"\}
--- request
GET /gray/status
--- response_body_like
^\{"generation":0,.*"pinned":null,.*"beta":\{"version":"v2","enabled":true,"weight":10,
--- no_error_log
changed by

=== TEST 5: 404 for an unknown app, 405 for other methods
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served5; }
location @served5 { return 200; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v1"}')
--- error_code: 404
--- response_body_like
\{"error":"unknown app"\}
--- request
PUT /gray/status/apps/gray
--- error_code: 405
--- response_headers
Allow: GET, HEAD, PATCH
--- raw_request eval
(lambda b: b"PATCH /gray/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v1"}')
--- error_code: 405

=== TEST 6: a pin survives a reload, follows its version to a renamed deployment, and is dropped with a notice when the version is gone
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served6; }
location @served6 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 200
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
- {name: other, version: v3, enabled: true}
--- request
GET /
--- response_body
v2
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: renamed, version: v2, enabled: true}
--- request
GET /
--- response_body
v2
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: renamed, version: v4, enabled: true}
--- request
GET /
--- response_body
v1
--- request
GET /gray/status
--- response_body_like
^\{"generation":2,.*"pinned":null
--- error_log
\[notice\] .*frontend_gray: app "gray": pin to version "v2" dropped: the configuration no longer has that version

=== TEST 7: weight overrides survive a reload and are dropped with the version they were set for
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true, weight: 1}
--- config
location / { frontend_gray gray.yaml; try_files /.none @served7; }
location @served7 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"deployments": {"beta": {"weight": 100}}}')
--- error_code: 200
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true, weight: 2}
--- request
GET /
--- response_body
v2
--- repeat: 5
--- reload
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v3, enabled: true, weight: 0}
--- request
GET /
--- response_body
v1
--- repeat: 5
--- error_log
\[notice\] .*frontend_gray: app "gray": overrides of deployment "beta" version "v2" dropped

=== TEST 8: frontend_gray_state is written on every accepted change
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- http_config
frontend_gray_state state/gray.json;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served8; }
location @served8 { return 200 "$gray_version\n"; }
location /gray/status { frontend_gray_status write=on; }
location = /state { alias $TEST_NGINX_PREFIX/state/gray.json; default_type application/json; }
--- user_files
>>> state/.keep

--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2", "deployments": {"beta": {"enabled": false}}}')
--- error_code: 200
--- request
GET /state
--- response_body
{
  "apps": {
    "gray": {
      "pin": "v2",
      "deployments": {
        "beta": {
          "version": "v2",
          "weight": null,
          "enabled": false
        }
      }
    }
  }
}

=== TEST 9: a corrupt state file is ignored with a warning naming it; nginx starts
--- yaml
baseDeployment: {version: v1}
--- http_config
frontend_gray_state state.json;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served9; }
location @served9 { return 200 "$gray_version\n"; }
--- user_files
>>> state.json
{"apps": {"gray": {"pin": "v1"
--- request
GET /
--- response_body
v1
--- error_log
\[warn\] .*frontend_gray_state file "[^"]*state.json": EOF while parsing .*: ignored

=== TEST 10: a state file read at start applies its pin; entries naming gone versions are dropped with a notice
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
--- http_config
frontend_gray_state state.json;
--- config
location / { frontend_gray gray.yaml; try_files /.none @served10; }
location @served10 { return 200 "$gray_version\n"; }
--- user_files
>>> state.json
{"apps": {"gray": {"pin": "v2", "deployments": {"beta": {"version": "v0", "weight": 5}}}, "old": {"pin": "x"}}}
--- request
GET /
--- response_body
v2
--- error_log
\[notice\] .*frontend_gray_state file "[^"]*state.json": app "gray": overrides of deployment "beta" version "v0" dropped
\[notice\] .*frontend_gray_state file "[^"]*state.json": app "old" is not configured: dropped

=== TEST 11: precedence with a pin: preview beats it, $gray_reason says pin
--- yaml
rewrite:
  fileRouting: {/: '/m/{version}'}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
- {name: next, version: v3, enabled: false}
preview: {query: gray_version}
--- config
location / { frontend_gray gray.yaml; try_files /.none @seen; }
location @seen { return 200 "$gray_version $gray_reason $uri\n"; }
location /gray/status { frontend_gray_status write=on; }
--- raw_request eval
(lambda b: b"PATCH /gray/status/apps/gray HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))(b'{"pin": "v2"}')
--- error_code: 200
--- request
GET /
--- response_body
v2 pin /
--- request
GET /a.js
--- response_body
v2 pin /m/v2/a.js
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=v1
--- response_body
v1 sticky /m/v1/a.js
--- request
GET /?gray_version=v3
--- response_body
v3 preview /
