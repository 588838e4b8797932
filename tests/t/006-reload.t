# nginx -s reload (SPEC §1, §7): a changed YAML applies with no failed request; a broken one is
# refused and the old configuration keeps serving.

=== TEST 1: reload switches the version, no request fails meanwhile
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: gray1, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
v=gray1
--- reload
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: gray2, enabled: true}
--- during_reload: GET /
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
v=gray2

=== TEST 2: a broken YAML on reload is refused; the old configuration keeps serving
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: [unclosed
--- reload_fails: 1
--- during_reload: GET /
--- reload_error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": line \d+, column \d+
--- request
GET /
--- response_body
v=v1
--- reload
baseDeployment: {version: v3}
--- reload_fails: 0
--- during_reload: GET /
--- request
GET /
--- response_body
v=v3

=== TEST 3: rollback by disabling the gray deployment: assets keep their routing, on base
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 100}
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/gray/a.js
gray
>>> html/mfe/base/a.js
base
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
gray
--- reload
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: false, weight: 100}
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- during_reload: GET /a.js
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
base
