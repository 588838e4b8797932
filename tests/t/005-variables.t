# The variables of SPEC §2 in the places nginx variables are used: add_header, map, if, log_format.

=== TEST 1: all five variables
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
rewrite: {host: cdn.internal}
baseDeployment: {version: base, backendVersion: be-base}
grayDeployments:
- {name: beta, version: gray, enabled: true, backendVersion: be-gray}
uniqueGrayTag: uid
--- config
location / {
    frontend_gray gray.yaml;
    return 200 "v=$gray_version b=$gray_backend_version d=$gray_deployment u=$gray_uid h=$gray_host\n";
}
location /off/ {
    return 200 "v=$gray_version b=$gray_backend_version d=$gray_deployment u=$gray_uid h=$gray_host\n";
}
--- request
GET /
--- more_headers
Cookie: userid=u1; uid=abc
--- response_body
v=gray b=be-gray d=beta u=abc h=cdn.internal
--- request
GET /
--- more_headers
Cookie: uid=abc
--- response_body
v=base b=be-base d=base u=abc h=cdn.internal
--- request
GET /off/
--- response_body
v= b= d= u= h=localhost

=== TEST 2: map and if see the decision
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- http_config
map $gray_version $is_gray { gray yes; default no; }
--- config
location / {
    frontend_gray gray.yaml;
    if ($gray_version = gray) { return 200 "if gray $is_gray\n"; }
    return 200 "not gray $is_gray\n";
}
--- request
GET /
--- more_headers
Cookie: userid=u1
--- response_body
if gray yes
--- request
GET /
--- response_body
not gray no

=== TEST 3: log_format with every variable: the access log line of each request (read back through nginx)
# nginx writes the access log line before it closes the connection, so the next request sees it
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base, backendVersion: be-base}
grayDeployments:
- {name: beta, version: gray, enabled: true, backendVersion: be-gray}
uniqueGrayTag: uid
rewrite: {host: cdn.internal}
skippedPaths: ['/api/**']
--- http_config
log_format gray '$request_uri v=$gray_version b=$gray_backend_version d=$gray_deployment u=$gray_uid h=$gray_host';
--- config
location / {
    access_log logs/gray.log gray;
    frontend_gray gray.yaml;
    try_files /.none @ok;
}
location @ok {
    access_log logs/gray.log gray;
    return 200 "ok\n";
}
location = /log {
    default_type text/plain;
    alias $TEST_NGINX_PREFIX/logs/gray.log;
}
--- request
GET /page
--- more_headers
Cookie: userid=u1; uid=abc
--- request
GET /api/x
--- more_headers
Cookie: userid=u1; uid=abc
--- request
GET /other?q=1
--- more_headers
Cookie: uid=def
--- request
GET /log
--- response_body
/page v=gray b=be-gray d=beta u=abc h=cdn.internal
/api/x v= b= d= u= h=localhost
/other?q=1 v=base b=be-base d=base u=def h=cdn.internal

=== TEST 4: root built from $gray_version: the versioned file is served without any routing
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; root html/$gray_version; }
--- user_files
>>> html/base/index.html
base page
>>> html/gray/index.html
gray page
>>> html/gray/app.js
gray js
--- request
GET /index.html
--- response_body
base page
--- request
GET /index.html
--- more_headers
Cookie: userid=u1
--- response_body
gray page
--- request
GET /app.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
gray js
