#!/usr/bin/env bash
# Runs Rewind's whole test suite: unit tests (Surefire) and integration tests that start
# real processes (Failsafe). Run as root (as CI does), it first installs the Debian
# packages the integration tests use, if any are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Debian packages the tests need, each with a command it brings (nbdfuse comes with
# libnbd-bin on some releases and as a package of its own on others; postgresql's server
# binaries are off PATH, so it is checked by a path pattern); tests that need one skip on a
# laptop without it, and fail when CI=true.
packages=(qemu-utils:qemu-img libnbd-bin:nbdinfo curl:curl nbdfuse:nbdfuse fio:fio nbdkit:nbdkit fuse3:fusermount3 e2fsprogs:mkfs.ext4 openssl:openssl
          'postgresql:/usr/lib/postgresql/*/bin/initdb' 'mariadb-server:/usr/sbin/mariadbd')

# A command on PATH (or in the sbin dirs), or a path pattern that matches an executable.
has_command() {
  case "$1" in
    */*) for f in $1; do [ -x "$f" ] && return 0; done; return 1 ;;
    *) PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1 ;;
  esac
}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for entry in "${packages[@]}"; do
    p="${entry%%:*}" cmd="${entry#*:}"
    has_command "$cmd" || dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
fi

exec ./mvnw -B -ntp verify "$@"
