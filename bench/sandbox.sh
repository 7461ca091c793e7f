#!/usr/bin/env bash
# Sandbox benchmark, in one process (dev.rewind.cli.bench.SandboxBenchmark): sandbox creation
# time at 1e5 and 1e6 writes of history (target: under 100 ms, flat), the time of the first
# read after creation, and fio --ioengine=nbd random read and random write (4 KiB, qd16) on a
# sandbox export against the live export of the same set, served by one in-process NBD server
# on loopback (target: >= 0.8x). Prints a table.
#
#   bench/sandbox.sh [--histories 100000,1000000] [--volume-mib 256] [--cut-every 10000] [--fio-seconds 5]
#
# The history is 4 KiB records (one in eight with data, the others write-zeroes), so that a
# million fit in about 0.6 GiB of journal. Work files go to a temporary directory under
# ${TMPDIR:-/tmp}, removed at the end. Not a test: figures depend on the machine's load.
#
# Needs: a JDK 17+, fio (Debian: fio).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in fio java; do
  command -v "$tool" >/dev/null || { echo "bench/sandbox.sh: $tool is not installed (apt-get install fio)" >&2; exit 2; }
done
if [ ! -f "$here/cli/target/rewind.jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$here" && ./mvnw -q -o -B -pl cli -am package -Dmaven.test.skip=true)
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-sandbox-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
java -Xmx2g -cp "$here/cli/target/rewind.jar:$here/cli/target/lib/*" dev.rewind.cli.bench.SandboxBenchmark --dir "$work/run" "$@"
