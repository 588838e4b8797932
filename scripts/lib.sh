# Shared helpers of the scripts in this folder. Source it; do not run it.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

APT_UPDATED=
# apt_install PKG... : installs the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Everything needed to build the module against either nginx.
ensure_build_deps() {
  apt_install build-essential pkg-config clang libclang-dev libpcre2-dev libssl-dev zlib1g-dev \
    nginx nginx-dev ca-certificates curl python3
  if ! command -v cargo >/dev/null; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"
  # Debian's nginx package enables and starts a service on :80; we never use it.
  if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
    as_root systemctl stop nginx >/dev/null 2>&1 || true
  fi
}

# The oldest nginx this module builds against: ngx-rust 0.5 (nginx-sys) supports 1.22 and later.
NGINX_MIN_VERSION=1.22.0

# vendored_nginx_src : the nginx source tree bundled in the nginx-src crate that Cargo.lock names.
vendored_nginx_src() {
  local v d
  v="$(sed -n '/^name = "nginx-src"$/{n;s/^version = "\(.*\)"$/\1/p}' "$ROOT/Cargo.lock")"
  [ -n "$v" ] || die "Cargo.lock names no nginx-src crate"
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/nginx-src-"$v"/nginx; do
    [ -f "$d/src/core/nginx.h" ] && { echo "$d"; return 0; }
  done
  (cd "$ROOT" && cargo fetch >&2) || die "cannot fetch the nginx-src crate $v"
  for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/nginx-src-"$v"/nginx; do
    [ -f "$d/src/core/nginx.h" ] && { echo "$d"; return 0; }
  done
  die "nginx-src $v has no nginx source tree"
}

# nginx_src_version DIR : the version of the nginx source tree DIR (its src/core/nginx.h).
nginx_src_version() {
  sed -n 's/^#define NGINX_VERSION *"\(.*\)"$/\1/p' "$1/src/core/nginx.h" 2>/dev/null
}

# version_ge A B : A >= B for dotted versions.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

# check_nginx_version VERSION WHAT : stops with a clear message on an nginx this module cannot build against.
check_nginx_version() {
  [ -n "$1" ] || die "$2: not an nginx source tree (no src/core/nginx.h with NGINX_VERSION)"
  version_ge "$1" "$NGINX_MIN_VERSION" \
    || die "$2 is nginx $1; this module builds against nginx $NGINX_MIN_VERSION or later (ngx-rust 0.5), see docs/versions.md"
}

# http3_possible NGINX_VERSION : succeeds when that nginx and the system OpenSSL can build
# --with-http_v3_module (nginx 1.25.0+; OpenSSL 1.1.1+, through nginx's compatibility layer
# where OpenSSL has no QUIC API); else prints why not.
http3_possible() {
  local ossl
  version_ge "$1" 1.25.0 || { echo "nginx $1 has no HTTP/3 (1.25.0 and later)"; return 1; }
  ossl="$(pkg-config --modversion openssl 2>/dev/null || true)"
  [ -n "$ossl" ] || { echo "no system OpenSSL found by pkg-config (libssl-dev)"; return 1; }
  version_ge "$ossl" 1.1.1 || { echo "system OpenSSL $ossl is older than 1.1.1"; return 1; }
}
