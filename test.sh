#!/usr/bin/env bash
# Runs Rewind's whole test suite: unit tests (Surefire) and integration tests that start
# real processes (Failsafe). Run as root (as CI does), it first installs the Debian
# packages the integration tests use, if any are missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# Debian packages the tests need; tests that need one skip on a laptop without it,
# and fail when CI=true.
packages=(qemu-utils libnbd-bin nbdfuse fio nbdkit fuse3 e2fsprogs)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
fi

exec ./mvnw -B -ntp verify "$@"
