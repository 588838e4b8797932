# The frontend_gray directive: loading, paths, inheritance, and configuration errors (SPEC §2, §3, §7).

=== TEST 1: module loads, nginx -t passes, relative path resolves against the conf prefix
--- yaml
baseDeployment:
  version: base
--- config
location / {
    frontend_gray gray.yaml;
    return 200 "v=$gray_version\n";
}
--- request
GET /
--- error_code: 200
--- response_body
v=base

=== TEST 2: absolute path
--- yaml: sub/abs.yaml
baseDeployment: {version: absv}
--- config
location / {
    frontend_gray $TEST_NGINX_PREFIX/conf/sub/abs.yaml;
    return 200 "v=$gray_version\n";
}
--- request
GET /
--- response_body
v=absv

=== TEST 3: JSON configuration accepted as it is
--- yaml: app.json
{"grayKey": "userid", "rules": [{"name": "beta", "grayKeyValue": ["00000002"]}],
 "baseDeployment": {"version": "base"},
 "grayDeployments": [{"name": "beta", "version": "gray", "enabled": true}]}
--- config
location / {
    frontend_gray app.json;
    return 200 "v=$gray_version\n";
}
--- request
GET /
--- more_headers
Cookie: userid=00000002
--- response_body
v=gray

=== TEST 4: inherited from http and server level, switched off with off
--- yaml
baseDeployment: {version: base}
--- http_config
frontend_gray gray.yaml;
--- config
location / { return 200 "v=$gray_version\n"; }
location /api/ {
    frontend_gray off;
    return 200 "api=$gray_version\n";
}
--- request
GET /
--- response_body
v=base
--- request
GET /api/x
--- response_body
api=
--- response_headers
!Set-Cookie
!Cache-Control

=== TEST 5: a location overrides an inherited file
--- yaml
baseDeployment: {version: one}
--- yaml: two.yaml
baseDeployment: {version: two}
--- config
frontend_gray gray.yaml;
location / { return 200 "v=$gray_version\n"; }
location /two { frontend_gray two.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- response_body
v=one
--- request
GET /two
--- response_body
v=two

=== TEST 6: YAML syntax error: nginx -t fails with file, line and column
--- yaml
grayKey: userid
rules:
  - name: beta
     grayKeyValue: [1]
baseDeployment: {version: b}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*/conf/gray.yaml": line 4, column \d+: .* in [^ ]*nginx.conf:\d+

=== TEST 7: wrong type: line and column of the value
--- yaml
baseDeployment:
  version: b
grayDeployments:
  - name: g
    version: g
    weight: lots
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": line 6, column 13: .*weight

=== TEST 8: weight out of range names the field
--- yaml
baseDeployment: {version: b}
grayDeployments:
  - {name: g, version: g, enabled: true, weight: 101}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*gray.yaml": grayDeployments\[0\]\.weight: 101 is outside 0-100

=== TEST 9: weights summing over 100
--- yaml
baseDeployment: {version: b}
grayDeployments:
  - {name: g, version: g, enabled: true, weight: 60}
  - {name: h, version: h, enabled: true, weight: 41}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
grayDeployments\[1\]\.weight: weights of enabled gray deployments sum to 101, over 100

=== TEST 10: missing baseDeployment.version
--- yaml
grayKey: userid
baseDeployment: {backendVersion: x}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
gray.yaml": baseDeployment\.version: is required

=== TEST 11: invalid glob
--- yaml
baseDeployment: {version: b}
skippedPaths: ['/api/**', '/a/[b']
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
gray.yaml": skippedPaths\[1\]: invalid glob "/a/\[b"

=== TEST 12: invalid globalConfig key
--- yaml
baseDeployment: {version: b}
injection:
  globalConfig: {enabled: true, key: "window.x-y", value: "{}"}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
gray.yaml": injection\.globalConfig\.key: "window\.x-y" is not a JavaScript identifier

=== TEST 13: missing file
--- config
location / { frontend_gray nothere.yaml; }
--- must_die
--- error_log
\[emerg\] .*"frontend_gray" file "[^"]*/conf/nothere.yaml": No such file

=== TEST 14: unknown fields and deployments without a rule are warnings, not errors
--- yaml
grayKy: userid
baseDeployment: {version: base, colour: red}
grayDeployments:
  - {name: nobody, version: g, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- response_body
v=base
--- error_log
\[warn\] .*"frontend_gray" file "[^"]*gray.yaml": unknown field "grayKy" ignored
\[warn\] .*unknown field "baseDeployment.colour" ignored
\[warn\] .*grayDeployments\[0\]: no rule named "nobody"

=== TEST 15: duplicate directive
--- yaml
baseDeployment: {version: b}
--- config
location / { frontend_gray gray.yaml; frontend_gray off; }
--- must_die
--- error_log
"frontend_gray" directive is duplicate

=== TEST 16: a version that could escape the directory is refused
--- yaml
baseDeployment: {version: "../../etc"}
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
baseDeployment\.version: "\.\./\.\./etc" contains '/'
