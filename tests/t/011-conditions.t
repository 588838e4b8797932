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

=== TEST 10: os and browser from the User-Agent (token table: Edge is not chrome, an iPhone is ios)
--- yaml
rules:
- name: mobile
  match:
  - os: [ios, android]
  - browser: [safari, chrome]
- name: edge
  match:
  - browser: [edge]
baseDeployment: {version: base}
grayDeployments:
- {name: mobile, version: mobile-v, enabled: true}
- {name: edge, version: edge-v, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "$gray_version\n"; }
--- request
GET /
--- more_headers
User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1
--- response_body
mobile-v
--- request
GET /
--- more_headers
User-Agent: Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36
--- response_body
mobile-v
--- request
GET /
--- more_headers
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91
--- response_body
edge-v
--- request
GET /
--- more_headers
User-Agent: Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36
--- response_body
base
--- request
GET /
--- more_headers
User-Agent: curl/8.5.0
--- response_body
base

=== TEST 11: jwt claims of an RS256 token verified with a PEM key; forged, expired and unsigned tokens match nothing
--- yaml
jwt: {header: Authorization, keys: keys/rsa.pem}
rules:
- name: beta
  match:
  - jwt: {claim: role, values: [beta-tester]}
- name: grouped
  match:
  - jwt: {claim: groups, values: [beta-tester]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: beta-v, enabled: true}
- {name: grouped, version: group-v, enabled: true}
--- user_files
>>> conf/keys/rsa.pem
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqCOFiRw1l/6jeUNscU6k
cdRyxtqfl1QggTsha/9mIksbgJUNh8IP8mHNHEptqQXiHHcAB4xPADUDhWDJ5eM+
YUFY6C93Zn6hfJHB623E91XivaA28ZZGGbJ/e4er5MZKPfH89Gfqa0flhOgYYXdn
Iw4Zla7cpzSj1o05341j/OTBniS0WBDf3xN9YXW7BHrx4tQF+GzzL4TmxQj5FUcI
FVRKodkw7/BJflAuxuXTNCZzyxxLn5ucMGNAkipZyIr4UA+0JF+E96OVeciTrrJ4
g9UperjxPwfboTB5tfyKevITf/n8Y6OXxNy/B4x6xLaFh57RrAN8ukP75XsRmvEC
FQIDAQAB
-----END PUBLIC KEY-----
--- config
large_client_header_buffers 4 16k;
location / { frontend_gray gray.yaml; return 200 "$gray_version $gray_reason\n"; }
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYmV0YS10ZXN0ZXIiLCJzdWIiOiJ1MSJ9.Rn_SxU6HYSry0IXewD2OR2ygU2Rd1N2POMGevsfVy_0bfpUVlGdsGRX_6q2BWpiWIPz6cFnPsXJub6Y9Hd6IXPiYb9II5gg1o9eCJB_5HAviW-MTy-Kwsyx7mrRr9eHej1IP7S9wvjnOBwcFKfF2-0uZxC7ENqXdX6atNn0X4SAnLmw0XC23hvwcWT-mMhkDAXvOLL6M_5j3aH1y56xvg6Y2o0AcdK3lnG_humxGX8Z4_L_ksrJL2xdNI8H6xQ9kfJyRqVof2FlBKmRh2iMG6zPDWVadPhulzjsRGn9QukwdPzjBwp5D6MU2mmTIETPX9WDQJ5YXx3F9ZLSg-E4tTg
--- response_body
beta-v rule:beta
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJncm91cHMiOlsiYSIsImJldGEtdGVzdGVyIl19.ajFrWCXVAuL9xzmwwvly4wQnT8gGsKKH9Pnaufi-7lEz_i8hBtOwIP-DcfqA5ut17-ZIJQk74laIPlif_ohqT2nkcr7yxCmd58LFg9fUZuDpDjdbzPqkyQ1Zx2yCvF9uzILer-6ZfCxr1g4V3ueqsaQO4XqyASs90_32FxDB0Mmdpj3JW7aJd7cIzuttZ2lDGJ4Noxf0UinXt2gS5j0T4j6bpTnXVXr-Bahzgp7fGk2yaKAJ_Z1GzihCpIjOFW4NIreZ8Z51SNhtguSeuYO9KNx9AJNDVkeZvhX4xV50PFwZLMo7rgoYmiaCXrZpWy02GNXMAit7-5F031yYgKgZdQ
--- response_body
group-v rule:grouped
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoidXNlciJ9.SewQws9l7q7TwSbkP1D0HWS6AFxf1bJNiq_qFFKr_ChWQdq8pUS7xYCfYbJE7H7XAQNNiJsKMRj7XnqDqUtunws7SkaHMApMurX24Rd8hGd-gnln-fGm8SZXOwLmw8MCi_qNtJuCUDLHwuuwITK0FUw2J1JIndOr8M6qMuxQVnA9mxmfysbKunw4M4taURKv9eemCV1wkl9yGuw8Nb94RNaWRkTIT3sI1ENn4EpQX6vxFfEZY2gVtngZQ3flSkliT-VfRdftJ96whofNE0IvxFrasALwTv1LiyG8JktAzTv4i9fOETYSy890s9LwuEcB3izkrohY8XCOqXE54K3MMw
--- response_body
base base
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYmV0YS10ZXN0ZXIiLCJleHAiOjEwMDAwMDAwMDB9.IEWVsM2DOzN0cfarAtVAMKL5HBSWLphf4BGdUOQ_SenW_ByP-9mBOTz2Qv9CItmOc8rNEu1_7phI6RFv731PavJ-dOQ_1tUNWNd6CtpQFAH_iptH2vnDrTMVAVrPzxTIdvnadR3w4vVEbfG0KbpWeavA-FDOJUM_aYagP7mJzkj63qJ9prpIJhkU2sf2FH9PO_kmTIIvs5oF9lJon_RqYTJRHCr1TczzFz0at9GgtUSUnrNHAmnkUWWJYDiUWdT6Qja_xIchCdOIiTcVPnrIE917C53gp6259B79LOrI0mBdfm78rHnQiQYnxdHKS5JCbLafDkj-SVzgkqe0zi-pXg
--- response_body
base base
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYmV0YS10ZXN0ZXIiLCJzdWIiOiJ1MSJ9.Rn_SxU6HYSry0IXewD2OR2ygU2Rd1N2POMGevsfVy_0bfpUVlGdsGRX_6q2BWpiWIPz6cFnPsXJub6Y9Hd6IXPiYb9II5gg1o9eCJB_5HAviW-MTy-Kwsyx7mrRr9eHej1IP7S9wvjnOBwcFKfF2-0uZxC7ENqXdX6atNn0X4SAnLmw0XC23hvwcWT-mMhkDAXvOLL6M_5j3aH1y56xvg6Y2o0AcdK3lnG_humxGX8Z4_L_ksrJL2xdNI8H6xQ9kfJyRqVof2FlBKmRh2iMG6zPDWVadPhulzjsRGn9QukwdPzjBwp5D6MU2mmTIETPX9WDQJ5YXx3F9ZLSg-E4tTA
--- response_body
base base
--- request
GET /
--- more_headers
Authorization: Bearer eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYmV0YS10ZXN0ZXIifQ.
--- response_body
base base
--- request
GET /
--- more_headers eval
b"Authorization: Bearer " + b"A" * 8200 + b"\r\n"
--- response_body
base base

=== TEST 12: an unreadable JWT key fails nginx -t naming the field; verify false is warned about
--- yaml
jwt: {cookie: token, keys: no/such/key.pem}
rules:
- name: beta
  match:
  - jwt: {claim: role, values: [x]}
baseDeployment: {version: base}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
gray\.yaml": jwt\.keys
