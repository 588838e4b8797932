#!/usr/bin/env bash
# End-to-end: a gray rule reads a geoip2 variable (docs/region-tests.md, "A country, with geoip2").
# Usage: tests/geoip2/run.sh path/to/ngx_http_frontend_gray_module.so   (built for Debian's nginx)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module=${1:?usage: $0 path/to/ngx_http_frontend_gray_module.so}
module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")
[ -f "$module" ] || { echo "geoip2: no module at $module" >&2; exit 2; }

nginx_bin=/usr/sbin/nginx
geoip2_so=/usr/lib/nginx/modules/ngx_http_geoip2_module.so

# 1. what it needs
if [ ! -f "$geoip2_so" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y libnginx-mod-http-geoip2 >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y libnginx-mod-http-geoip2 >/dev/null; }
fi
if ! python3 -c 'import mmdb_writer, netaddr' 2>/dev/null; then
    python3 -m pip install -q mmdb-writer >/dev/null 2>&1 \
        || python3 -m pip install -q --break-system-packages mmdb-writer >/dev/null
fi
[ -x "$nginx_bin" ] || { echo "geoip2: $nginx_bin missing" >&2; exit 2; }
[ -f "$geoip2_so" ] || { echo "geoip2: $geoip2_so missing" >&2; exit 2; }

prefix=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$prefix"
}
trap cleanup EXIT

mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/html"

# 2. the database
python3 "$here/make_mmdb.py" "$prefix/conf/GeoLite2-Country.mmdb"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

# 3. the configuration: gray/market.yaml of docs/region-tests.md
cat > "$prefix/conf/market.yaml" <<'YAML'
# gray/market.yaml: Portugal and Brazil first, everyone else stays on the base version
rules:
- name: lusophone
  match:
  - variable: {name: geoip2_country_code, regex: '^(PT|BR)$'}
baseDeployment: {version: '2.0.0'}
grayDeployments:
- {name: lusophone, version: '2.1.0', enabled: true}
YAML

cat > "$prefix/conf/nginx.conf" <<NGINX
load_module $geoip2_so;
load_module $module;
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log logs/access.log;
    client_body_temp_path temp/client;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Real-IP;
    geoip2 $prefix/conf/GeoLite2-Country.mmdb {
        \$geoip2_country_code country iso_code;
    }
    server {
        listen 127.0.0.1:$port;
        root html;
        location / {
            frontend_gray market.yaml;
            try_files /.none @seen;
        }
        location @seen {
            return 200 "\$gray_version \$gray_reason\n";
        }
    }
}
NGINX
mkdir -p "$prefix/temp"

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
finish() {
    echo "geoip2: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# 4. nginx -t, then the requests
if out=$("$nginx_bin" -p "$prefix/" -c conf/nginx.conf -t 2>&1); then
    ok "nginx -t accepts geoip2 + frontend_gray with a variable condition"
else
    not_ok "nginx -t accepts geoip2 + frontend_gray with a variable condition"
    printf '%s\n' "$out" | sed 's/^/# /'
    finish
    exit 1
fi

"$nginx_bin" -p "$prefix/" -c conf/nginx.conf -g 'daemon off;' 2>"$prefix/logs/stderr.log" &
pid=$!

listening=
for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then listening=1; break; fi
    sleep 0.05
done
if [ -n "$listening" ]; then
    ok "nginx listens on 127.0.0.1:$port"
else
    not_ok "nginx listens on 127.0.0.1:$port"
    sed 's/^/# /' "$prefix/logs/stderr.log" "$prefix/logs/error.log" 2>/dev/null | tail -20
    finish
    exit 1
fi

check() { # name expected [curl args...]
    local name=$1 want=$2 got
    shift 2
    got=$(curl -s --max-time 5 "$@" "http://127.0.0.1:$port/" || true)
    if [ "$got" = "$want" ]; then
        ok "$name"
    else
        not_ok "$name"
        echo "#   want: '$want'"
        echo "#   got:  '$got'"
    fi
}

check "10.1.2.3 (PT) gets the gray version by rule lusophone" "2.1.0 rule:lusophone" -H 'X-Real-IP: 10.1.2.3'
check "11.1.2.3 (DE) stays on the base version" "2.0.0 base" -H 'X-Real-IP: 11.1.2.3'
check "127.0.0.1 (not in the database) stays on the base version" "2.0.0 base"

# 5. the tally
finish
