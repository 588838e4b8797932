# Unattended release (SPEC §11) at the nginx level: the YAML's rollout, guard and monitor
# checked by nginx -t with the field path, the reporter script first in <head> of entry pages
# with a token, the beacon's answers, the rollout in the status JSON. Rollouts moving in time,
# rollbacks, 4 workers and the browser: tests/release/run.py.

=== TEST 1: a rollout on the base deployment is refused, naming the field
--- yaml
baseDeployment: {version: v1, rollout: {steps: [5], interval: 1m}}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": baseDeployment\.rollout: the base deployment cannot have a rollout

=== TEST 2: a bad interval and a guard without limits name their fields
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: b, version: v2, enabled: true, rollout: {steps: [5, 50], interval: soon}}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
grayDeployments\[0\]\.rollout\.interval: invalid duration "soon"

=== TEST 3: a guard with neither limit
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: b, version: v2, enabled: true, guard: {window: 60s}}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
grayDeployments\[0\]\.guard: give maxErrorRate or maxErrorRateOverBase

=== TEST 4: a beacon path that could break out of the script
--- yaml
monitor: {beacon: '/b"+x+"'}
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
monitor\.beacon: "/b"\+x\+"" contains '"'

=== TEST 5: frontend_gray_beacon takes no argument
--- yaml
baseDeployment: {version: v1}
--- config
location = /gray/beacon { frontend_gray_beacon on; }
--- must_die
--- error_log
invalid number of arguments in "frontend_gray_beacon"

=== TEST 6: with monitor, the reporter script is the first thing in <head>, with a token; no warning
--- yaml
monitor: {beacon: /gray/beacon}
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
injection:
  globalConfig: {enabled: true, key: GRAY}
--- config
location / { frontend_gray gray.yaml; root html/$gray_version; }
location = /gray/beacon { frontend_gray_beacon; }
--- user_files
>>> html/v2/index.html
<!doctype html><html><head><title>t</title></head><body>v2</body></html>
--- request
GET /index.html
--- more_headers
Cookie: userid=u2
--- response_body_like
\A<!doctype html><html><head><script>\(function\(\)\{var n=0,u="/gray/beacon\?t=[A-Za-z0-9_-]{43}&n=";function r\(m\)\{if\(n<5&&navigator\.sendBeacon\).*?</script><script>var GRAY = .*</script><title>t</title></head><body>v2</body></html>\n\Z
--- no_error_log
unknown field

=== TEST 7: without monitor, no reporter
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; root html/$gray_version; }
--- user_files
>>> html/v1/index.html
<!doctype html><html><head><title>t</title></head><body>v1</body></html>
--- request
GET /index.html
--- response_body
<!doctype html><html><head><title>t</title></head><body>v1</body></html>

=== TEST 8: the beacon: 405 but for POST; a forged report is answered 204 with no body
--- yaml
monitor: {beacon: /gray/beacon}
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200; }
location = /gray/beacon { frontend_gray_beacon; }
location /gray/status { frontend_gray_status; }
--- request
GET /gray/beacon?t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&n=1
--- error_code: 405
--- request
POST /gray/beacon?t=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE&n=1
--- more_headers
Content-Length: 0
--- error_code: 204
--- response_headers_exact
!Content-Type
--- request
GET /gray/status/apps/gray
--- response_body_like
"base":\{"version":"v1",.*"jsErrors":0,

=== TEST 9: a rollout puts its first step in force and shows in the status JSON and Prometheus
--- yaml
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true, weight: 80, rollout: {steps: [0, 100], interval: 1h}}
--- config
location / { frontend_gray gray.yaml; try_files /.none @v; }
location @v { return 200 "$gray_version $gray_reason\n"; }
location /gray/status { frontend_gray_status; }
--- request
GET /
--- response_body
v1 weight
--- request
GET /gray/status/apps/gray
--- response_body_like
"mode":"percentage",.*"beta":\{"version":"v2","enabled":true,"weight":0,"state":"rollout",.*"rollout":\{"state":"rollout","step":1,"steps":\[0,100\],"weight":0,"interval":3600,"stepStarted":\d+,"nextStep":\d+\},"guard":null\}
--- request
GET /gray/status?format=prometheus
--- response_body_like
frontend_gray_state\{app="gray",deployment="beta",version="v2",state="rollout"\} 1\n.*frontend_gray_rollout_step\{app="gray",deployment="beta",version="v2"\} 1\n
