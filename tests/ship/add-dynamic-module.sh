#!/usr/bin/env bash
# `./configure --with-compat --add-dynamic-module=<this project> && make modules` in an nginx
# source tree (a copy of the nginx-src crate's, the version of the vendored build), then the
# module so built, loaded into the vendored nginx of the same version (both --with-compat),
# passes the decision blocks (tests/t/002-decision.t). Also: configure refuses --add-module
# (static) with a clear message. Prints `add-dynamic-module: N passed, M failed`.
#
#   tests/ship/add-dynamic-module.sh NGINX_BINARY    (the vendored nginx: build/vendored/nginx)
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"

nginx_bin="${1:-$BUILD/vendored/nginx}"
ensure_rust   # configure looks for cargo on PATH
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   add-dynamic-module: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL add-dynamic-module: $*"; }
finish() { echo "add-dynamic-module: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit; }

src="$(vendored_nginx_src)"
ver="$(nginx_src_version "$src")"
tree="$BUILD/add-dynamic-module/nginx-$ver"
mkdir -p "$BUILD/add-dynamic-module"
if [ ! -f "$tree/src/core/nginx.h" ]; then rm -rf "$tree"; cp -a "$src" "$tree"; fi

# static linking is refused at configure time, with the way out
if (cd "$tree" && ./auto/configure --with-compat --add-module="$ROOT" >"$BUILD/add-dynamic-module/static.log" 2>&1); then
  bad "configure --add-module is refused"
elif grep -q 'builds only as a dynamic module' "$BUILD/add-dynamic-module/static.log"; then
  ok "configure --add-module is refused: $(grep -o 'builds only.*' "$BUILD/add-dynamic-module/static.log")"
else
  tail -5 "$BUILD/add-dynamic-module/static.log"; bad "configure --add-module is refused with a clear message"
fi

log "nginx $ver: ./configure --with-compat --add-dynamic-module=$ROOT && make modules"
start=$(date +%s)
if (cd "$tree" && ./auto/configure --with-compat --add-dynamic-module="$ROOT" >"$BUILD/add-dynamic-module/configure.log" 2>&1); then
  ok "configure --with-compat --add-dynamic-module ($(grep -o 'Rust toolchain.*' "$BUILD/add-dynamic-module/configure.log" | head -1))"
else
  tail -20 "$BUILD/add-dynamic-module/configure.log"; bad "configure --with-compat --add-dynamic-module"; finish
fi
if (cd "$tree" && make modules >"$BUILD/add-dynamic-module/make.log" 2>&1); then
  ok "make modules ($(( $(date +%s) - start )) s)"
else
  tail -30 "$BUILD/add-dynamic-module/make.log"; bad "make modules"; finish
fi
so="$tree/objs/ngx_http_frontend_gray_module.so"
if [ -f "$so" ]; then ok "objs/ngx_http_frontend_gray_module.so built"; else bad "objs/ngx_http_frontend_gray_module.so built"; finish; fi

# make modules again: nothing to do but cargo's own check
start=$(date +%s)
if (cd "$tree" && make modules >"$BUILD/add-dynamic-module/make2.log" 2>&1); then ok "make modules again ($(( $(date +%s) - start )) s)"; else bad "make modules again"; fi

bver="$("$nginx_bin" -v 2>&1 | sed 's/.*nginx\///')"
[ "$bver" = "$ver" ] || { bad "the vendored nginx is $bver, the source tree $ver"; finish; }
hout="$(python3 tests/harness.py --label "[add-dynamic-module] " --nginx "$nginx_bin" --module "$so" tests/t/002-decision.t)" || true
echo "$hout" | grep -E '^(not ok|FAIL)' || true
read -r p f < <(echo "$hout" | sed -n 's/.*nginx tests: \([0-9]*\) passed, \([0-9]*\) failed/\1 \2/p')
if [ "${f:-1}" = 0 ] && [ "${p:-0}" -gt 0 ]; then ok "tests/t/002-decision.t with that module: $p passed"; else
  echo "$hout" | tail -20; bad "tests/t/002-decision.t with that module: ${p:-0} passed, ${f:-?} failed"; fi
finish
