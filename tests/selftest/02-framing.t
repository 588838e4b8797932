# Self-tests of the implicit framing and encoding checks: the raw origin on
# $TEST_NGINX_CHUNK_PORT sends what nginx would never send, and the step talks to it directly.

=== a body shorter than its Content-Length fails
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly this"
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- response_body_like
only
--- selftest_fails_with
body shorter than its Content-Length: 9 of 100 bytes

=== bytes beyond the Content-Length fail
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nokEXTRA"
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- selftest_fails_with
5 bytes after the last response

=== a chunked body without its terminating chunk fails
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n"
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- response_body
hello
--- selftest_fails_with
chunked body without its terminating chunk

=== the same through nginx: an origin that stops mid-body gives a chunked response cut short
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n"
--- config
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT; }
--- allow_error_log
upstream prematurely closed connection
--- request
GET /
--- selftest_fails_with
chunked body without its terminating chunk

=== a HEAD response with body bytes fails
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
--- config
location / { return 200; }
--- request
HEAD /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- selftest_fails_with
HEAD response with 4 body bytes

=== a 204 with body bytes fails
--- raw_origin eval
b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\nbody"
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- error_code: 204
--- selftest_fails_with
GET response with 4 body bytes

=== Content-Length and chunked together fail
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n"
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- selftest_fails_with
both Content-Length and Transfer-Encoding

=== a gzip-labelled body that is not gzip fails (it is not compared raw)
--- config
location / { add_header Content-Encoding gzip; return 200 "plain text"; }
--- request
GET /
--- response_body eval
"plain text"
--- selftest_fails_with
Content-Encoding: gzip body does not decompress

=== a truncated gzip body fails
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + __import__("gzip").compress(b"hello world " * 100)[:-12]
--- config
location / { return 200; }
--- request
GET /
--- request_port: $TEST_NGINX_CHUNK_PORT
--- selftest_fails_with
gzip body does not decompress

=== a pipelined request left unanswered fails
--- raw_origin eval
b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
--- config
location / { return 200; }
--- raw_request eval
b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
--- request_port: $TEST_NGINX_CHUNK_PORT
--- selftest_fails_with
1 of 2 pipelined requests got no response

=== PASS: well-framed chunked, Content-Length, HEAD and gzip responses
--- user_files
>>> html/big.txt
some text some text some text some text
--- config
location / { root html; gzip on; gzip_min_length 1; gzip_types text/plain; }
--- request
GET /big.txt
--- more_headers
Accept-Encoding: gzip
--- response_headers
Content-Encoding: gzip
--- response_body
some text some text some text some text
--- request
HEAD /big.txt
--- response_headers
Content-Length: 40
--- raw_request eval
b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\nHEAD /big.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /big.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
--- raw_response_like
^HTTP/1.1 200.*HTTP/1.1 200.*HTTP/1.1 200
