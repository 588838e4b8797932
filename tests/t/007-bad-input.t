# Untrusted input (SPEC §7): cookies, headers and paths never crash a worker, inject a header,
# or escape the versioned directory. Every block also fails on any [alert]/[crit]/panic line.

=== TEST 1: malformed, huge, numerous and duplicate cookies
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- config
large_client_header_buffers 4 64k;
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: ;;; = ;==;userid;userid=;=u1
--- response_body
v=base
--- request
GET /
--- more_headers eval
b"Cookie: big=" + b"x" * 16384 + b"; userid=u1\r\n"
--- response_body
v=gray
--- request
GET /
--- more_headers eval
b"Cookie: " + b"; ".join(b"k%d=v%d" % (i, i) for i in range(3000)) + b"; userid=u1\r\n"
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: userid=u1; userid=nobody
Cookie: userid=nobody
--- response_body
v=gray
--- request
GET /
--- more_headers eval
b"Cookie: userid=\xff\xfe\x80; level=\xc3\x28\r\n"
--- response_body
v=base

=== TEST 2: a bad uid (header or cookie) is replaced, never echoed into Set-Cookie
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 50}
--- config
location / { frontend_gray gray.yaml; return 200 "u=$gray_uid\n"; }
--- request
GET /
--- more_headers
x-higress-uid: a; Path=/evil; Domain=evil.com
Cookie: x-higress-uid="x,y"
--- response_headers_like
Set-Cookie: ^x-higress-uid=[0-9a-f]{32}; Max-Age=31536000; Path=/; HttpOnly; Secure$
--- response_body_like
^u=[0-9a-f]{32}\n$
--- request
GET /
--- more_headers eval
b"x-higress-uid: \xff\xfe\r\nCookie: x-higress-uid=%0d%0aSet-Cookie:%20x=1\r\n"
--- response_body_like
^u=[0-9a-f]{32}\n$

=== TEST 3: neither a version cookie nor a path that reaches the module leaves the versioned directories
# every request here passes nginx's own URI parser (which answers /../x and its encoded forms
# with 400 before the module runs): `app1..` is an ordinary segment to nginx, but glued to a
# routing key without a trailing slash it would climb out of /mfe/app1/base (SPEC §5)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: gray, enabled: true, weight: 0}
rewrite:
  fileRouting: {/: '/mfe/{version}', /app1: '/mfe/app1/{version}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/mfe/base/a.js
base a
>>> html/mfe/app1/base/a.js
app1 base a
>>> html/mfe/app1/secret.js
secret: outside every version
>>> html/app1../secret.js
secret: the unversioned path
--- request
GET /a.js
--- more_headers
Cookie: x-higress-tag=../..
--- response_body
base a
--- request
GET /app1/a.js
--- response_body
app1 base a
--- request
GET /app1../secret.js
--- error_code: 404
--- response_body_like
\A<html>\r\n<head><title>404 Not Found</title></head>
--- request
GET /app1%2e%2e/secret.js
--- error_code: 404
--- response_body_like
\A<html>\r\n<head><title>404 Not Found</title></head>
--- request
GET /app1.%2E/secret.js?x=1
--- error_code: 404
--- response_body_like
\A<html>\r\n<head><title>404 Not Found</title></head>
--- request
GET /x/../app1/a.js
--- response_body
app1 base a
--- error_log
\[info\] .*frontend_gray: "/app1\.\./secret\.js" would leave the versioned directory of its route, not served

=== TEST 4: bad graySubKey values (encoding, JSON, non-UTF-8) fall back safely
--- yaml
grayKey: info
graySubKey: userId
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: info=%7B%22userId%22%3A%22u1%22
--- response_body
v=base
--- request
GET /
--- more_headers
Cookie: info=%zz%7B%
--- response_body
v=base
--- request
GET /
--- more_headers eval
b"Cookie: info=%7B%22userId%22%3A%22\xff%22%7D\r\n"
--- response_body
v=base
--- request
GET /
--- more_headers
Cookie: info=%7B%22userId%22%3A%5B%22u1%22%5D%7D
--- response_body
v=base
--- request
GET /
--- more_headers
Cookie: info={"userId":"u1","deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
--- response_body
v=gray

=== TEST 5: absurd storeMaxAge is capped, not overflowed
--- yaml
baseDeployment: {version: base}
storeMaxAge: 99999999999999999
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok\n"; }
--- request
GET /
--- response_headers
Set-Cookie: x-higress-tag=base; Max-Age=2147483647; Path=/; HttpOnly; Secure

=== TEST 6: a very long allow-list (50,000 ids) loads and is looked up, not scanned
--- yaml eval
"grayKey: userid\nrules:\n- name: beta\n  grayKeyValue:\n" + "".join("  - 'user%d'\n" % i for i in range(50000)) + "baseDeployment: {version: base}\ngrayDeployments:\n- {name: beta, version: gray, enabled: true}\n"
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: userid=user49999
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: userid=user50000
--- response_body
v=base

=== TEST 7: control bytes in cookie values never reach a header (a NUL is refused by nginx itself)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 50}
--- config
location / { frontend_gray gray.yaml; try_files /.none @ok; }
location @ok { return 200 "ok\n"; }
--- request
GET /
--- more_headers eval
b"Cookie: x-higress-uid=ab\x00cd\r\n"
--- error_code: 400
--- request
GET /
--- more_headers eval
b"Cookie: x-higress-uid=ab\x01cd; x-higress-tag=va\x7f\r\n"
--- error_code: 200
--- response_headers_like
Set-Cookie: ^x-higress-uid=[0-9a-f]{32}; Max-Age=31536000; Path=/; HttpOnly; Secure$
