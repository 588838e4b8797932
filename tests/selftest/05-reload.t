# Self-tests of reload steps.

=== reload_fails: 0 means the reload must succeed
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: [unclosed
--- reload_fails: 0
--- selftest_fails_with
reload refused, expected it to succeed

=== reload_fails: 1 with a good file fails (quickly, not by a timeout)
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2}
--- reload_fails: 1
--- selftest_fails_with
reload succeeded, expected it to be refused

=== reload_error_log is checked against the lines of that reload
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2}
--- reload_error_log
this is never logged
--- selftest_fails_with
reload: the log lines of this reload lack /this is never logged/

=== an exception in the load thread fails the block
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2}
--- during_reload: GET /€
--- selftest_fails_with
during reload: the load thread raised UnicodeEncodeError

=== a badly framed answer during a reload fails the block
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
location /bad { add_header Content-Encoding gzip; return 200 "not gzip"; }
--- reload
baseDeployment: {version: v2}
--- during_reload: GET /bad
--- selftest_fails_with
during reload: (\d+) of \1 requests failed: .*gzip body does not decompress

=== reload_fails must be 0 or 1
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2}
--- reload_fails: yes
--- selftest_fails_with
reload_fails must be 0 or 1

=== PASS: a good reload with its expectations, then a refused one
--- yaml
baseDeployment: {version: v1}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- reload
baseDeployment: {version: v2, colour: red}
--- reload_fails: 0
--- during_reload: GET /
--- reload_error_log
\[warn\] .*unknown field "baseDeployment.colour" ignored
--- request
GET /
--- response_body
v=v2
--- reload
baseDeployment: [unclosed
--- reload_fails: 1
--- reload_error_log
\[emerg\] .*gray.yaml": line \d+, column \d+
--- request
GET /
--- response_body
v=v2
