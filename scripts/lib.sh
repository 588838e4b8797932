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

# The Rust the workspace needs: its rust-version (Cargo.toml).
rust_min_version() { sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1; }

# cargo_version : the version of the cargo on PATH (empty when there is none).
cargo_version() { { cargo --version 2>/dev/null || true; } | sed -n 's/^cargo \([0-9][0-9.]*\).*/\1/p'; }

# rust_ok : the cargo on PATH is at least rust_min_version.
rust_ok() { local v; v="$(cargo_version)"; [ -n "$v" ] && version_ge "$v" "$(rust_min_version)"; }

RUST_HOW_TO="install Rust $(rust_min_version 2>/dev/null) or later with rustfmt and clippy \
(https://rustup.rs, then: rustup toolchain install stable --profile minimal -c rustfmt,clippy), \
or put such a cargo on PATH"

# install_rustup : puts a rustup on PATH: one already there, the distribution's package
# (Debian trixie and later, Ubuntu 24.04 and later; bookworm has none, nor has crates.io), else
# the official installer into ~/.cargo (with the network it needs).
install_rustup() {
  command -v rustup >/dev/null && return 0
  if apt-cache show rustup >/dev/null 2>&1 && apt_install rustup && command -v rustup >/dev/null; then
    return 0
  fi
  command -v curl >/dev/null || apt_install curl ca-certificates || return 1
  curl --proto '=https' --tlsv1.2 -sSf --max-time 120 https://sh.rustup.rs \
    | sh -s -- -y --no-modify-path --profile minimal --default-toolchain none >&2 || return 1
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v rustup >/dev/null
}

# install_rust_toolchain : the stable toolchain through rustup (minimal profile, rustfmt, clippy),
# into the user's home (~/.rustup, ~/.cargo).
install_rust_toolchain() {
  install_rustup || return 1
  rustup toolchain install stable --profile minimal -c rustfmt,clippy >&2 || return 1
  # the user's own default stays when there is one; these scripts use stable
  rustup default >/dev/null 2>&1 || rustup default stable >&2 || return 1
  export RUSTUP_TOOLCHAIN=stable
  export PATH="$HOME/.cargo/bin:$PATH"
}

# ensure_rust : a cargo of at least the workspace's rust-version on PATH, installing the stable
# toolchain through rustup when it is missing or older (SKIP_RUSTUP=1: stop with an error instead).
ensure_rust() {
  [ -x "$HOME/.cargo/bin/cargo" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) export PATH="$HOME/.cargo/bin:$PATH" ;; esac
  rust_ok && return 0
  local have need; have="$(cargo_version)"; need="$(rust_min_version)"
  local what="cargo not found"; [ -n "$have" ] && what="cargo $have is older than the workspace's rust-version $need"
  [ "${SKIP_RUSTUP:-}" = 1 ] && die "$what: $RUST_HOW_TO (SKIP_RUSTUP=1: not installing it)"
  log "$what: installing the stable Rust toolchain with rustup (minimal, rustfmt, clippy) into $HOME/.rustup and $HOME/.cargo"
  install_rust_toolchain || die "$what, and the Rust toolchain could not be installed (no network?): $RUST_HOW_TO"
  rust_ok || die "rustup installed cargo $(cargo_version), still older than $need: $RUST_HOW_TO"
}

# Everything needed to build the module against either nginx.
ensure_build_deps() {
  apt_install build-essential pkg-config clang libclang-dev libpcre2-dev libssl-dev zlib1g-dev \
    nginx nginx-dev ca-certificates curl python3
  ensure_rust
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
  sed -n 's/^#define NGINX_VERSION *"\(.*\)"$/\1/p' "$1/src/core/nginx.h" 2>/dev/null  || true
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
