#!/usr/bin/env bash
# The Debian package, as an operator uses it: built by scripts/package, checked by lintian,
# installed with `apt-get install ./….deb`, enabled through /etc/nginx/modules-enabled, the
# system nginx (/usr/sbin/nginx, started here on 127.0.0.1 with its own prefix, never the
# service on :80) serving a gray request, apt refusing the package for another nginx ABI, and
# nginx still starting once the package is removed. Prints `package: N passed, M failed`.
# Leaves the package purged (it was installed only for the test).
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"

pass=0; fail=0
ok()   { pass=$((pass + 1)); echo "ok   package: $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL package: $*"; }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

pkg=libnginx-mod-http-frontend-gray
link=/etc/nginx/modules-enabled/50-mod-http-frontend-gray.conf
apt_get() { as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"; }

tmp="$(mktemp -d /tmp/fg-package.XXXXXX)"
master=
stop_nginx() {
  if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
    kill -QUIT "$master"
    for _ in $(seq 50); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
  fi
  master=
}
cleanup() {
  stop_nginx
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed && apt_get purge "$pkg" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! deb="$(scripts/package | tail -1)" || [ ! -f "$deb" ]; then
  bad "scripts/package builds the .deb"; echo "package: $pass passed, $fail failed"; exit 1
fi
ok "scripts/package builds $(basename "$deb")"

# what Debian's own module packages look like
abi="$(dpkg-query -W -f='${Provides}' nginx | tr ',' '\n' | sed -n 's/^ *\(nginx-abi-[^ (]*\).*/\1/p')"
check "Depends on the installed nginx's ABI ($abi)" \
  bash -c "dpkg-deb -f '$deb' Depends | tr ',' '\n' | grep -qx ' *$abi'"
dpkg-deb -c "$deb" >"$tmp/contents"
check "file layout of a libnginx-mod-* package" bash -c "grep -q ' ./usr/lib/nginx/modules/ngx_http_frontend_gray_module.so$' '$tmp/contents' \
  && grep -q ' ./usr/share/nginx/modules-available/mod-http-frontend-gray.conf$' '$tmp/contents'"

apt_install lintian
lint="$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'root privileges')" || true
[ -n "$lint" ] && echo "$lint" | sed 's/^/    /'
check "lintian reports no error" bash -c "! grep -q '^E:' <<<'$lint'"

# apt refuses the package for an nginx of another ABI
mkdir -p "$tmp/other"; dpkg-deb -R "$deb" "$tmp/other/root"
sed -i "s/$abi/nginx-abi-0.0.1-1/" "$tmp/other/root/DEBIAN/control"
dpkg-deb --root-owner-group --build "$tmp/other/root" "$tmp/other/${pkg}_0-other_$(dpkg --print-architecture).deb" >/dev/null
refused() {
  ! apt-get -s install "$tmp/other/"*.deb >"$tmp/other/apt.log" 2>&1 \
    && grep -q 'Depends: nginx-abi-0.0.1-1' "$tmp/other/apt.log"
}
check "apt refuses it for another nginx ABI" refused

# install
if apt_get install "$deb" >"$tmp/install.log" 2>&1; then ok "apt-get install ./$(basename "$deb")"; else
  cat "$tmp/install.log"; bad "apt-get install ./$(basename "$deb")"; fi
check "enabled in /etc/nginx/modules-enabled" test -L "$link"
check "nginx -t of the system configuration, module enabled" bash -c "/usr/sbin/nginx -t -q 2>'$tmp/t1.log' || { cat '$tmp/t1.log'; false; }"

# the system nginx, with its modules-enabled, serving a gray request on 127.0.0.1
port="$(python3 -c 'import sys; sys.path.insert(0, "scripts"); from nginxproc import free_port; print(free_port())')"
mkdir -p "$tmp/p/conf" "$tmp/p/logs" "$tmp/p/html/mfe/app1/1.0/js" "$tmp/p/html/mfe/app1/2.0/js"
for v in 1.0 2.0; do
  printf '<html><head><title>app</title></head><body>version %s</body></html>\n' "$v" >"$tmp/p/html/mfe/app1/$v/index.html"
  echo "console.log('$v');" >"$tmp/p/html/mfe/app1/$v/js/app.js"
done
cat >"$tmp/p/conf/app1.yaml" <<'YAML'
grayKey: userid
rules: [{name: beta, grayKeyValue: ['00000002']}]
baseDeployment: {version: '1.0'}
grayDeployments: [{name: beta, version: '2.0', enabled: true}]
injection: {head: ['<meta name="gray" content="{version}">']}
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}'}
YAML
write_conf() { # with-module(1|0)
  local loc='return 200 "no module\n";'
  [ "$1" = 1 ] && loc="frontend_gray $tmp/p/conf/app1.yaml; root $tmp/p/html;"
  cat >"$tmp/p/conf/nginx.conf" <<CONF
include /etc/nginx/modules-enabled/*.conf;
$( [ "$(id -u)" = 0 ] && echo 'user root;')
worker_processes 1;
pid $tmp/p/logs/nginx.pid;
error_log $tmp/p/logs/error.log info;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $tmp/p/logs/body; proxy_temp_path $tmp/p/logs/proxy;
    fastcgi_temp_path $tmp/p/logs/fcgi; uwsgi_temp_path $tmp/p/logs/uwsgi; scgi_temp_path $tmp/p/logs/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { $loc }
    }
}
CONF
}
start_nginx() {
  rm -f "$tmp/p/logs/nginx.pid"
  # Debian's prefix (/usr/share/nginx, where modules/ leads to /usr/lib/nginx/modules), as the
  # service runs it; only the configuration file is ours
  /usr/sbin/nginx -c "$tmp/p/conf/nginx.conf" -g 'daemon on;' 2>"$tmp/p/logs/start.log" || { cat "$tmp/p/logs/start.log"; return 1; }
  for _ in $(seq 50); do [ -s "$tmp/p/logs/nginx.pid" ] && break; sleep 0.1; done
  master="$(cat "$tmp/p/logs/nginx.pid")"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.1; done
  return 1
}
write_conf 1
check "system nginx starts with the packaged module" start_nginx
body="$(curl -s -b userid=00000002 -D "$tmp/h" "http://127.0.0.1:$port/app1" || true)"; touch "$tmp/h"
check "a gray user gets the gray entry, injected" \
  grep -q 'version 2.0' <<<"$body"
check "  … with the version cookie" grep -qi '^set-cookie: x-higress-tag=2.0;' "$tmp/h"
check "  … and the injection" grep -q '<meta name="gray" content="2.0">' <<<"$body"
check "a gray user's asset comes from the gray version" \
  bash -c "curl -s -b 'x-higress-tag=2.0' 'http://127.0.0.1:$port/app1/js/app.js' | grep -q \"'2.0'\""
check "a base user gets the base entry" bash -c "curl -s 'http://127.0.0.1:$port/app1' | grep -q 'version 1.0'"
stop_nginx

# remove: the link goes away, nginx still starts
if apt_get remove "$pkg" >"$tmp/remove.log" 2>&1; then ok "apt-get remove $pkg"; else cat "$tmp/remove.log"; bad "apt-get remove $pkg"; fi
check "no longer enabled" test ! -e "$link"
check "nginx -t of the system configuration, package removed" bash -c "/usr/sbin/nginx -t -q 2>'$tmp/t2.log' || { cat '$tmp/t2.log'; false; }"
write_conf 0
check "system nginx starts after the removal" start_nginx
stop_nginx
apt_get purge "$pkg" >/dev/null 2>&1 || true
check "purge leaves no link behind" bash -c "! ls /etc/nginx/modules-enabled/ | grep -q frontend-gray"

echo "package: $pass passed, $fail failed"
[ "$fail" = 0 ]
