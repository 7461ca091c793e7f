#!/usr/bin/env bash
# Delta map benchmark (dev.rewind.cli.bench.DeltaMapBenchmark): opening a point 1e2, 1e3 and
# 1e4 transactions back through merged delta maps against walking every later transaction's
# increment (target: < 100 ms and flat at 1e4), and random 8 KiB reads of the point 1e4 back
# against the live set (target: >= 0.8x). Two sets get the same 8 KiB-page workload, a cut
# after each "second" of it.
#
#   bench/deltamaps.sh [TRANSACTIONS] [VOLUME_MIB] [PAGE_WRITES_PER_TRANSACTION]   (default 10100 256 8)
#
# Work files (about 3 GiB at the defaults) go to a temporary directory under ${TMPDIR:-/tmp},
# removed at the end. Not a test: figures depend on the machine's load.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$here/cli/target/rewind.jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$here" && ./mvnw -q -o -B -pl cli -am package -Dmaven.test.skip=true)
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-deltamap-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
java -Xmx2g -cp "$here/cli/target/rewind.jar:$here/cli/target/lib/*" dev.rewind.cli.bench.DeltaMapBenchmark "$work/run" "$@"
