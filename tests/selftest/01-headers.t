# Self-tests of the header expectations: each block must fail for the reason it names
# (selftest_fails_with), except those titled PASS.

=== a duplicate header fails response_headers_exact
--- config
location / { add_header Cache-Control "no-cache"; add_header Cache-Control "max-age=3600"; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
Cache-Control: no-cache
--- selftest_fails_with
header Cache-Control: expected exactly \['no-cache'\], got \['no-cache', 'max-age=3600'\]

=== a missing value fails response_headers_exact
--- config
location / { add_header X-A one; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
X-A: one
X-A: two
--- selftest_fails_with
header X-A: expected exactly

=== response_headers_exact regexes are anchored (full match)
--- config
location / { add_header X-A "abc"; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
X-A ~ ab
--- selftest_fails_with
header X-A: expected exactly \['~/ab/'\], got \['abc'\]

=== !Name in response_headers_exact: present fails
--- config
location / { add_header Expires "Thu, 01 Jan 2099 00:00:00 GMT"; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
!Expires
--- selftest_fails_with
header Expires: expected exactly \[\], got

=== !Name: regex fails when some value matches
--- config
location / { add_header Set-Cookie "a=1"; add_header Set-Cookie "uid=2"; return 200 "x\n"; }
--- request
GET /
--- response_headers_like
!Set-Cookie: ^uid=
--- selftest_fails_with
header Set-Cookie: value\(s\) \['uid=2'\] match /\^uid=/, expected none

=== !Name in response_headers_like fails when the header is there
--- config
location / { add_header X-A "1"; return 200 "x\n"; }
--- request
GET /
--- response_headers_like
!X-A
--- selftest_fails_with
header X-A present

=== an empty regex in response_headers_like is an error
--- config
location / { add_header X-A "1"; return 200 "x\n"; }
--- request
GET /
--- response_headers_like
X-A:
--- selftest_fails_with
response_headers_like X-A: empty regex

=== an empty regex in response_headers_exact is an error
--- config
location / { add_header X-A "1"; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
X-A ~
--- selftest_fails_with
response_headers_exact X-A: empty regex

=== an empty response_body_like section is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_body_like
--- selftest_fails_with
response_body_like: empty regex

=== a blank response_body_like is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_body_like:  
--- selftest_fails_with
response_body_like: empty regex

=== the status defaults to 200
--- config
location / { return 404; }
--- request
GET /
--- selftest_fails_with
status 404, expected 200

=== PASS: exact values with duplicates, in any order, regexes full-matched
--- config
location / { add_header X-A one; add_header X-A two; add_header X-A two; add_header X-B "v=42"; return 200 "x\n"; }
--- request
GET /
--- response_headers_exact
X-A: two
X-A: one
X-A: two
X-B ~ v=\d+
!X-C
--- response_headers_like
!X-A: ^three$
X-B: =4

=== a false response_check fails
--- config
location / { add_header X-A "1"; return 200 "x\n"; }
--- request
GET /
--- response_check eval
r.values("X-A") == ["1"]
r.values("X-A") == ["2"]
--- selftest_fails_with
response_check failed: r.values\("X-A"\) == \["2"\]

=== a response_check that raises fails
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_check eval
r.values("X-A")[0] == "1"
--- selftest_fails_with
response_check failed: .*raised IndexError

=== cookies() refuses a cookie set twice
--- config
location / { add_header Set-Cookie "a=1; Path=/"; add_header Set-Cookie "a=2; Path=/x"; return 200 "x\n"; }
--- request
GET /
--- response_check eval
cookies(r)["a"] in ("1", "2")
--- selftest_fails_with
cookie a set twice

=== response_check needs eval
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_check
True
--- selftest_fails_with
section response_check needs eval

=== PASS: response_check with cookies() and bucket() (reference vectors)
--- config
location / { add_header Set-Cookie "x-higress-uid=user2; Path=/"; add_header Set-Cookie "t=v; Path=/"; return 200 "x\n"; }
--- request
GET /
--- response_check eval
cookies(r) == {"x-higress-uid": "user2", "t": "v"}
bucket(cookies(r)["x-higress-uid"]) == 11
bucket("user8") == 98 and bucket("") == 38
r.text == "x\n" and r.status == 200
