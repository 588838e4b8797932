# Self-tests of the implicit error-log checks.

=== an undeclared [error] line fails the block
--- config
location / { root html; }
--- request
GET /missing.txt
--- error_code: 404
--- selftest_fails_with
undeclared \[error\] line .*open\(\) ".*/html/missing.txt" failed

=== an undeclared [alert] line fails the block
--- config
location / { return 200 "x\n"; }
--- main_config
worker_rlimit_nofile 10;
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- request
GET /
--- selftest_fails_with
undeclared \[alert\] line .*socketpair\(\) failed

=== an undeclared [crit] line fails the block
--- config
location / { proxy_pass http://unix:$TEST_NGINX_PREFIX/nothing-listens.sock; }
--- request
GET /
--- error_code: 502
--- selftest_fails_with
undeclared \[crit\] line .*connect\(\) to unix:.*nothing-listens.sock failed

=== a required error_log regex that is absent fails
--- config
location / { return 200 "x\n"; }
--- request
GET /
--- error_log
this line is never logged
--- selftest_fails_with
error log lacks /this line is never logged/

=== PASS: allow_error_log declares an [error] line it need not require
--- config
location / { root html; }
--- request
GET /missing.txt
--- error_code: 404
--- allow_error_log
open\(\) ".*/html/missing\.txt" failed
open\(\) ".*/html/never-requested" failed

=== PASS: an error_log regex declares the [error] line it requires
--- config
location / { root html; }
--- request
GET /missing.txt
--- error_code: 404
--- error_log
\[error\] .*open\(\) ".*/html/missing\.txt" failed
