#!/usr/bin/env bash
# The Rust check of scripts/lib.sh (ensure_rust, used by scripts/demo, scripts/test and
# scripts/build): a fake `cargo` on PATH reports a version, the install step is stubbed, and
# each case checks whether the install path is taken and what is said. Nothing is installed.
# Prints `rust-bootstrap: N passed, M failed`.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lib="$here/../../scripts/lib.sh"
need="$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$here/../../Cargo.toml")"
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   rust-bootstrap: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL rust-bootstrap: $*"; }

tmp="$(mktemp -d /tmp/fg-rust-bootstrap.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
# a PATH with the tools lib.sh uses and no cargo or rustup
tools="$tmp/tools"; mkdir -p "$tools"
for t in sed sort head dirname cat id tr grep mkdir chmod; do ln -s "$(command -v "$t")" "$tools/$t"; done

fake_cargo() { # DIR VERSION
  mkdir -p "$1"
  printf '#!/bin/sh\necho "cargo %s (0000000 2024-01-01)"\n' "$2" >"$1/cargo"
  chmod +x "$1/cargo"
}

# run_case NAME CARGO_VERSION|none STUB_RESULT(ok|fail) [ENV…]: runs ensure_rust in a clean
# shell; the stubbed install records that it ran and, on ok, puts a cargo of rust-version on
# PATH (as rustup would, in ~/.cargo/bin). Sets $out (all output), $rc and $installed.
run_case() {
  local name="$1" ver="$2" stub="$3"; shift 3
  local home="$tmp/$name/home" bin="$tmp/$name/bin"
  mkdir -p "$home" "$bin"
  [ "$ver" != none ] && fake_cargo "$bin" "$ver"
  out="$(env -i HOME="$home" PATH="$bin:$tools" "$@" "$BASH" -c '
    source "$1"; stub="$2"
    install_rust_toolchain() {
      echo installed >"$HOME/installed"
      [ "$stub" = ok ] || return 1
      mkdir -p "$HOME/.cargo/bin"
      printf "#!/bin/sh\necho \"cargo %s (0000000 2024-01-01)\"\n" "$(rust_min_version)" >"$HOME/.cargo/bin/cargo"
      chmod +x "$HOME/.cargo/bin/cargo"
      export PATH="$HOME/.cargo/bin:$PATH"
    }
    ensure_rust
    echo "cargo now: $(cargo_version)"
  ' _ "$lib" "$stub" 2>&1)"
  rc=$?
  installed=no; [ -f "$home/installed" ] && installed=yes
}

expect() { # description condition…
  local what="$1"; shift
  if "$@"; then ok "$what"; else bad "$what"; echo "$out" | sed 's/^/    | /'; fi
}

run_case old 1.65.0 ok
expect "cargo 1.65.0 (Debian bookworm's) takes the install path, says so in one line, goes on" \
  bash -c '[ "$1" = 0 ] && [ "$2" = yes ] && [ "$(grep -c "^==> cargo 1.65.0 is older than the workspace.s rust-version '"$need"': installing" <<<"$3")" = 1 ] && grep -q "cargo now: '"$need"'" <<<"$3"' _ "$rc" "$installed" "$out"

run_case missing none ok
expect "no cargo at all takes the install path" \
  bash -c '[ "$1" = 0 ] && [ "$2" = yes ] && grep -q "^==> cargo not found: installing the stable Rust toolchain with rustup" <<<"$3"' _ "$rc" "$installed" "$out"

run_case new 1.95.0 ok
expect "cargo 1.95.0 is used as it is, nothing installed, nothing said" \
  bash -c '[ "$1" = 0 ] && [ "$2" = no ] && [ "$3" = "cargo now: 1.95.0" ]' _ "$rc" "$installed" "$out"

run_case exact "$need.0" ok
expect "cargo $need.0 (exactly rust-version) is enough" bash -c '[ "$1" = 0 ] && [ "$2" = no ]' _ "$rc" "$installed"

run_case minor 1.9.0 ok
expect "cargo 1.9.0 compares as older than $need (versions, not strings)" bash -c '[ "$2" = yes ]' _ "$rc" "$installed"

run_case skip 1.65.0 ok SKIP_RUSTUP=1
expect "SKIP_RUSTUP=1: a clear error, no install" \
  bash -c '[ "$1" != 0 ] && [ "$2" = no ] && grep -q "^error: cargo 1.65.0 is older than the workspace.s rust-version '"$need"': install Rust '"$need"' or later" <<<"$3" && grep -q "SKIP_RUSTUP=1" <<<"$3"' _ "$rc" "$installed" "$out"

run_case skipmissing none ok SKIP_RUSTUP=1
expect "SKIP_RUSTUP=1 and no cargo: today's error, saying what to install" \
  bash -c '[ "$1" != 0 ] && [ "$2" = no ] && grep -q "^error: cargo not found: install Rust '"$need"' or later with rustfmt and clippy" <<<"$3"' _ "$rc" "$installed" "$out"

run_case offline 1.65.0 fail
expect "install fails (no network): the error says what to install" \
  bash -c '[ "$1" != 0 ] && [ "$2" = yes ] && grep -q "could not be installed (no network?): install Rust '"$need"' or later with rustfmt and clippy (https://rustup.rs" <<<"$3"' _ "$rc" "$installed" "$out"

# install_rustup picks the distribution's rustup package when the distribution has one
out="$(env -i HOME="$tmp/apt/home" PATH="$tools" "$BASH" -c '
  source "$1"
  apt-cache() { return 0; }
  apt_install() { echo "apt_install $*"; mkdir -p "$HOME/b"; printf "#!/bin/sh\n" >"$HOME/b/rustup"; chmod +x "$HOME/b/rustup"; export PATH="$HOME/b:$PATH"; }
  curl() { echo "curl called"; return 1; }
  install_rustup && echo "rustup: $(command -v rustup)"
' _ "$lib" 2>&1)"
expect "rustup from the distribution's package where it has one (trixie, Ubuntu 24.04)" \
  bash -c 'grep -q "^apt_install rustup$" <<<"$1" && ! grep -q "curl called" <<<"$1"' _ "$out"

out="$(env -i HOME="$tmp/noapt/home" PATH="$tools" "$BASH" -c '
  source "$1"
  apt-cache() { return 100; }
  apt_install() { echo "apt_install $*"; }
  curl() { echo "curl $*" >&2; return 6; }
  sh() { cat >/dev/null; return 1; }
  install_rustup || echo "rc=$?"
' _ "$lib" 2>&1)"
expect "else the official installer (bookworm has no rustup package, crates.io no rustup crate); its failure is reported" \
  bash -c 'grep -q "^curl .*https://sh.rustup.rs" <<<"$1" && ! grep -q "apt_install rustup" <<<"$1" && grep -q "^rc=1$" <<<"$1"' _ "$out"

echo "rust-bootstrap: $pass passed, $fail failed"
[ "$fail" = 0 ]
