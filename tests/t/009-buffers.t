# The entry page's buffers: the body filter points into the producer's buffers instead of
# copying them, and hands each back only once what points into it has been sent. These blocks
# make nginx wait on a full socket (a slow reader, a 4 KB send buffer) with few, small producer
# buffers, so that a buffer released too early shows as a corrupted page and one never released
# as a stalled response. Each page is 1.5 MB with {version} every tenth line.

=== TEST 1: static file, sendfile and tcp_nopush on, two 4 KB output buffers, slow reader
--- yaml
baseDeployment: {version: base}
injection:
  head: ['<meta name=h>']
  body: {first: ['<i>first {version}</i>'], last: ['<i>last</i>']}
--- listen_options: sndbuf=4k
--- config
sendfile on;
tcp_nopush on;
output_buffers 2 4k;
location / { frontend_gray gray.yaml; root html; }
--- user_files eval
{"html/index.html": big_page(1536)}
--- request
GET /index.html
--- slow_client: 4096
--- response_body eval
big_page(1536).replace("{version}", "base").replace("</head>", "<meta name=h></head>").replace("<body>", "<body><i>first base</i>").replace("</body>", "<i>last</i></body>")

=== TEST 2: proxied origin, proxy_buffering on with four 4 KB buffers, slow reader
--- yaml
baseDeployment: {version: base}
injection:
  head: ['<meta name=h>']
  body: {last: ['<i>last</i>']}
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; root html; }
--- listen_options: sndbuf=4k
--- config
proxy_buffering on;
proxy_buffer_size 4k;
proxy_buffers 4 4k;
proxy_busy_buffers_size 8k;
proxy_max_temp_file_size 0;
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files eval
{"html/index.html": big_page(1536)}
--- request
GET /index.html
--- slow_client: 4096
--- response_body eval
big_page(1536).replace("{version}", "base").replace("</head>", "<meta name=h></head>").replace("</body>", "<i>last</i></body>")

=== TEST 3: proxied origin, proxy_buffering off (one 4 KB buffer, reads land next to each other), slow reader
--- yaml
baseDeployment: {version: base}
injection:
  head: ['<meta name=h>']
  body: {last: ['<i>last</i>']}
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; root html; }
--- listen_options: sndbuf=4k
--- config
proxy_buffering off;
proxy_buffer_size 4k;
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files eval
{"html/index.html": big_page(1536)}
--- request
GET /index.html
--- slow_client: 4096
--- response_body eval
big_page(1536).replace("{version}", "base").replace("</head>", "<meta name=h></head>").replace("</body>", "<i>last</i></body>")

=== TEST 4: proxied origin spilling to a temporary file, gzip after the rewrite, slow reader
--- yaml
baseDeployment: {version: base}
injection:
  body: {first: ['<i>first</i>']}
--- http_config
server { listen 127.0.0.1:$TEST_NGINX_ORIGIN_PORT; root html; }
--- listen_options: sndbuf=4k
--- config
gzip on;
gzip_min_length 1;
proxy_buffering on;
proxy_buffers 2 4k;
proxy_busy_buffers_size 4k;
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_ORIGIN_PORT; }
--- user_files eval
{"html/index.html": big_page(1536)}
--- request
GET /index.html
--- more_headers
Accept-Encoding: gzip
--- slow_client: 1024
--- response_headers
Content-Encoding: gzip
--- response_body eval
big_page(1536).replace("{version}", "base").replace("<body>", "<body><i>first</i>")
--- error_log
an upstream response is buffered to a temporary file
