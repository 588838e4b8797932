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

=== TEST 2: map, if and log_format see the decision
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- http_config
map $gray_version $is_gray { gray yes; default no; }
log_format gray '$uri $gray_version $gray_deployment';
--- config
access_log logs/gray.log gray;
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
