# Several apps on one host (SPEC §3 cookiePath, §7): each app's cookies carry its own Path, and
# nginx -t warns, once per pair of files, when two apps would set the same cookie on
# overlapping paths of one domain.

=== TEST 1: two apps with the same version names keep their cookies apart with cookiePath
--- yaml: a1.yaml
cookiePath: /a1/
uniqueGrayTag: x-uid
rules:
- {name: gray, grayKeyValue: [u1]}
grayKey: userid
baseDeployment: {version: base, backendVersion: b1}
grayDeployments:
- {name: gray, version: gray, enabled: true}
--- yaml: a2.yaml
cookiePath: /a2/
baseDeployment: {version: base}
--- config
location /a1/ { frontend_gray a1.yaml; root html; }
location /a2/ { frontend_gray a2.yaml; root html; }
--- user_files
>>> html/a1/index.html
a1
>>> html/a2/index.html
a2
--- request
GET /a1/index.html
--- more_headers
Cookie: userid=u1; x-uid=abc
--- response_headers
Set-Cookie: x-higress-tag=gray; Max-Age=31536000; Path=/a1/; HttpOnly; Secure
Set-Cookie: x-uid=abc; Max-Age=31536000; Path=/a1/; HttpOnly; Secure
Set-Cookie: x-mse-tag=; Max-Age=0; Path=/a1/; HttpOnly; Secure
--- request
GET /a2/index.html
--- response_headers
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/a2/; HttpOnly; Secure
--- no_error_log
overlapping paths

=== TEST 2: two apps on Path=/ get one warning naming both files, however many locations use them
--- yaml: a1.yaml
baseDeployment: {version: base}
--- yaml: a2.yaml
baseDeployment: {version: base}
--- yaml: a3.yaml
cookieDomain: .other.example
baseDeployment: {version: base}
--- config
location /a1/ { frontend_gray a1.yaml; root html; }
location /a1x/ { frontend_gray a1.yaml; root html; }
location /a2/ { frontend_gray a2.yaml; root html; }
location /a3/ { frontend_gray a3.yaml; root html; }
--- user_files
>>> html/a1/index.html
a1
--- request
GET /a1/index.html
--- response_headers
Set-Cookie: x-higress-tag=base; Max-Age=31536000; Path=/; HttpOnly; Secure
--- error_log
\[warn\].*"frontend_gray" files ".*/a1\.yaml" and ".*/a2\.yaml" both set cookie "x-higress-tag" on overlapping paths \("/", "/"\) of the same domain: their versions can cross; give each app its own "cookiePath"
--- no_error_log
a3\.yaml" both
a1\.yaml" and ".*a1\.yaml
