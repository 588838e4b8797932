# Self-tests of the memory check: worker_rss_growth_kb_max bounds the worker's PEAK RSS over the
# step, so memory taken while the response is in flight and given back at its end still counts.

=== memory held only while the response is in flight fails worker_rss_growth_kb_max
# 8 proxy buffers of 512 KB are filled while a slow client reads; nginx frees (munmaps) them at
# the end of the request, so the RSS after the step is about what it was before
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; root html; }
--- config
proxy_buffering on;
proxy_buffers 8 512k;
proxy_busy_buffers_size 1m;
proxy_max_temp_file_size 0;
location / { proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files eval
{"html/big.txt": "x" * (6 << 20)}
--- listen_options: sndbuf=4k
--- request
GET /big.txt
--- slow_client: 65536
--- worker_rss_growth_kb_max: 2048
--- selftest_fails_with
worker peak RSS grew \d+ kB, over 2048 kB

=== PASS: a small response stays far under the bound
--- config
location / { return 200 "small\n"; }
--- request
GET /
--- repeat: 20
--- worker_rss_growth_kb_max: 2048
