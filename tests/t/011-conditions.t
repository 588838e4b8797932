# Rule conditions (SPEC §8): header, query, cookie, ip (after realip), userId, variable (geo,
# map, set), combined with the allow-list; preview with allow; $gray_reason; config errors.

=== TEST 1: header, query and cookie conditions; all must hold; the allow-list still matches
--- yaml
grayKey: userid
rules:
- name: qa
  grayKeyValue: ['00000001']
  match:
  - header: {name: X-Canary, values: ['true']}
  - query: {name: canary, values: ['1', 'a b']}
  - cookie: {name: plan, regex: '^(pro|team)$'}
baseDeployment: {version: base}
grayDeployments:
- {name: qa, version: gray, enabled: true}
--- config
location / {
    frontend_gray gray.yaml;
    root html;
    add_header X-Version $gray_version always;
    add_header X-Reason $gray_reason always;
}
--- user_files
>>> html/index.html
page
--- request
GET /index.html?canary=1
--- more_headers
X-Canary: true
Cookie: plan=team
--- response_headers
X-Version: gray
X-Reason: rule:qa
--- request
GET /index.html?x=1&canary=a+b
--- more_headers
x-canary: true
Cookie: a=b; plan=pro
--- response_headers
X-Version: gray
--- request
GET /index.html?canary=1
--- more_headers
X-Canary: true
Cookie: plan=free
--- response_headers
X-Version: base
X-Reason: base
--- request
GET /index.html?canary=2
--- more_headers
X-Canary: true
Cookie: plan=pro
--- response_headers
X-Version: base
--- request
GET /index.html
--- more_headers
Cookie: userid=00000001
--- response_headers
X-Version: gray
X-Reason: rule:qa

=== TEST 2: ip conditions see the client address after realip, and X-Forwarded-For is no address without it
--- yaml
rules:
- name: office
  match:
  - ip: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']
baseDeployment: {version: base}
grayDeployments:
- {name: office, version: gray, enabled: true}
--- config
location /real/ {
    frontend_gray gray.yaml;
    root html;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
    add_header X-Seen "$gray_version $remote_addr" always;
}
location /plain/ {
    frontend_gray gray.yaml;
    root html;
    add_header X-Seen "$gray_version $remote_addr" always;
}
--- user_files
>>> html/real/x
x
>>> html/plain/x
x
--- request
GET /real/x
--- more_headers
X-Real-IP: 10.20.30.40
--- response_headers
X-Seen: gray 10.20.30.40
--- request
GET /real/x
--- more_headers
X-Real-IP: 2001:db8::5
--- response_headers
X-Seen: gray 2001:db8::5
--- request
GET /real/x
--- more_headers
X-Real-IP: 192.0.2.8
--- response_headers
X-Seen: base 192.0.2.8
--- request
GET /plain/x
--- more_headers
X-Forwarded-For: 10.1.1.1
X-Real-IP: 10.1.1.1
--- response_headers
X-Seen: base 127.0.0.1

=== TEST 3: userId condition, and a rule with conditions in the global-config flags
--- yaml
grayKey: userid
rules:
- name: listed
  match:
  - userId: ['00000002']
- name: canary
  match:
  - header: {name: x-canary, values: ['1']}
baseDeployment: {version: base}
grayDeployments:
- {name: listed, version: gray, enabled: true}
injection:
  globalConfig: {enabled: true}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body>{version}</body></html>
--- request
GET /index.html
--- more_headers
Cookie: userid=00000002
X-Canary: 1
--- response_body
<html><head><script>var HIGRESS_CONSOLE_CONFIG = {FEATURE_STATUS: {"listed": true, "canary": true}};</script></head><body>gray</body></html>
--- request
GET /index.html
--- more_headers
Cookie: userid=00000003
--- response_body
<html><head><script>var HIGRESS_CONSOLE_CONFIG = {FEATURE_STATUS: {"listed": false, "canary": false}};</script></head><body>base</body></html>

=== TEST 4: variable conditions compose with geo (after realip), map and set
--- yaml
rules:
- name: office
  match:
  - variable: {name: geo_office, values: ['1']}
- name: gold
  match:
  - variable: {name: $plan_tier, regex: '^gold'}
- name: flagged
  match:
  - variable: {name: server_flag, values: ['on']}
baseDeployment: {version: base}
grayDeployments:
- {name: office, version: office-v, enabled: true}
- {name: gold, version: gold-v, enabled: true}
- {name: flagged, version: flag-v, enabled: true}
--- http_config
geo $geo_office { default 0; 10.0.0.0/8 1; }
map $http_x_plan $plan_tier { default none; gold-annual gold; silver silver; }
--- config
set $server_flag off;
if ($http_x_flag) { set $server_flag on; }
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location / { frontend_gray gray.yaml; return 200 "$gray_version $gray_reason\n"; }
--- request
GET /
--- more_headers
X-Real-IP: 10.9.8.7
--- response_body
office-v rule:office
--- request
GET /
--- more_headers
X-Plan: gold-annual
--- response_body
gold-v rule:gold
--- request
GET /
--- more_headers
X-Plan: silver
--- response_body
base base
--- request
GET /
--- more_headers
X-Flag: 1
--- response_body
flag-v rule:flagged
--- request
GET /
--- response_body
base base

=== TEST 5: an unknown variable fails nginx -t naming the file and the field
--- yaml
rules:
- name: office
  match:
  - variable: {name: no_such_variable, values: ['1']}
baseDeployment: {version: base}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
"frontend_gray" file ".*gray\.yaml": rules\[0\]\.match\[0\]\.variable\.name: unknown variable "\$no_such_variable"

=== TEST 6: a bad CIDR, a bad regex and an unknown condition fail nginx -t with the file and field
--- yaml
rules:
- name: a
  match:
  - ip: ['10.0.0.0/33']
baseDeployment: {version: base}
--- yaml: regex.yaml
rules:
- name: a
  match:
  - cookie: {name: plan, regex: '(unclosed'}
baseDeployment: {version: base}
--- yaml: unknown.yaml
rules:
- name: a
  match:
  - colour: [red]
baseDeployment: {version: base}
--- config
location /a/ { frontend_gray gray.yaml; }
location /b/ { frontend_gray regex.yaml; }
location /c/ { frontend_gray unknown.yaml; }
--- must_die
--- error_log
gray\.yaml": rules\[0\]\.match\[0\]\.ip\[0\]: "10\.0\.0\.0/33" is not an IP address or CIDR network

=== TEST 7: preview opens any configured version, entry and assets, and sets the cookie; allow limits who
--- yaml
rewrite:
  indexRouting: {/: '/mfe/{version}/index.html'}
  fileRouting: {/: '/mfe/{version}'}
baseDeployment: {version: base}
grayDeployments:
- {name: next, version: v3, enabled: false}
preview: {header: X-Gray-Version, query: gray_version, allow: ['10.0.0.0/8']}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location / {
    frontend_gray gray.yaml;
    root html;
    add_header X-Reason $gray_reason always;
}
--- user_files
>>> html/mfe/base/index.html
base index
>>> html/mfe/v3/index.html
v3 index
>>> html/mfe/base/a.js
base a
>>> html/mfe/v3/a.js
v3 a
--- request
GET /?gray_version=v3
--- more_headers
X-Real-IP: 10.1.1.1
--- response_body
v3 index
--- response_headers
Set-Cookie: x-higress-tag=v3; Max-Age=31536000; Path=/; HttpOnly; Secure
X-Reason: preview
--- request
GET /a.js
--- more_headers
X-Real-IP: 10.1.1.1
Cookie: x-higress-tag=v3
--- response_body
v3 a
--- response_headers
X-Reason: sticky
--- request
GET /a.js
--- more_headers
X-Real-IP: 10.1.1.1
X-Gray-Version: v3
--- response_body
v3 a
--- request
GET /?gray_version=v3
--- more_headers
X-Real-IP: 11.1.1.1
--- response_body
base index
--- response_headers
X-Reason: base
--- request
GET /a.js
--- more_headers
X-Real-IP: 11.1.1.1
Cookie: x-higress-tag=v3
--- response_body
base a
--- request
GET /?gray_version=nope
--- more_headers
X-Real-IP: 10.1.1.1
--- response_body
base index

=== TEST 8: $gray_reason: weight and sticky in percentage mode, in log_format too
--- yaml
rewrite:
  fileRouting: {/: '/mfe/{version}'}
baseDeployment: {version: base}
grayDeployments:
- {name: all, version: gray, enabled: true, weight: 100}
--- config
location / {
    frontend_gray gray.yaml;
    root html;
    add_header X-Reason $gray_reason always;
}
--- user_files
>>> html/mfe/gray/a.js
gray a
>>> html/mfe/base/a.js
base a
--- request
GET /a.js
--- response_body
gray a
--- response_headers
X-Reason: weight
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=base
--- response_body
base a
--- response_headers
X-Reason: sticky

=== TEST 9: hostile request input for conditions: huge and duplicate headers, odd IPv6, bad query bytes
--- yaml
rules:
- name: a
  match:
  - header: {name: x-a, regex: '^ok$'}
  - query: {name: q, values: ['1']}
- name: b
  match:
  - ip: ['::ffff:10.0.0.0/104']
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true}
- {name: b, version: vb, enabled: true}
--- config
set_real_ip_from 127.0.0.1;
real_ip_header X-Real-IP;
location / { frontend_gray gray.yaml; return 200 "$gray_version\n"; }
--- request
GET /?q=1
--- more_headers eval
b"X-A: ok\r\nX-A: no\r\nX-B: " + b"x" * 7000 + b"\r\n"
--- response_body
va
--- request
GET /?q=%ff%fe%00%zz&q=1
--- more_headers
X-A: ok
--- response_body
base
--- request
GET /
--- more_headers
X-Real-IP: ::ffff:10.1.2.3
--- response_body
vb
--- request
GET /
--- more_headers
X-Real-IP: 10.1.2.3
--- response_body
vb
--- request
GET /
--- more_headers
X-Real-IP: not-an-address
--- response_body
base
