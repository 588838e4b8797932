# Self-tests of the block parser: a section that would go unused is an error.

=== an unknown section name is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_header
X-A: 1
--- selftest_fails_with
unknown section 'response_header'

=== eval on a section that does not honour it is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- error_code eval
200
--- selftest_fails_with
section error_code does not honour eval

=== origin_chunks without eval is an error
--- origin_chunks
[b"x"]
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- selftest_fails_with
section origin_chunks needs eval

=== a section given twice in one step is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response_body
x
--- response_body
y
--- selftest_fails_with
section response_body given twice in one step

=== a block section given twice is an error
--- config
location / { return 200 "x\n"; }
--- config
location /y { return 200 "y\n"; }
--- request
GET /
--- selftest_fails_with
section config given twice

=== a request expectation after a reload step is an error (it would never be checked)
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2}
--- response_body
v=v2
--- selftest_fails_with
section response_body belongs to a request step, not to the reload step before it

=== a step section before any step is an error
--- config
location / { return 200 "x\n"; }
--- error_code: 200
--- request
GET /
--- selftest_fails_with
section error_code before any request or reload

=== a malformed section line is an error
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- response-body
x
--- selftest_fails_with
not a section header

=== must_die with steps is an error
--- yaml
baseDeployment: [broken
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- error_log
\[emerg\]
--- request
GET /
--- selftest_fails_with
must_die block with steps

=== must_die without error_log is an error
--- yaml
baseDeployment: [broken
--- config
location / { frontend_gray gray.yaml; }
--- must_die
--- selftest_fails_with
must_die needs an error_log regex

=== a wrong error_code fails
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- error_code: 404
--- selftest_fails_with
status 200, expected 404
