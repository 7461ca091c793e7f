#!/usr/bin/env bash
# Retention benchmark (dev.rewind.cli.bench.RetentionBenchmark): a simulated month (the clock is
# moved, no sleeping) of an 8 KiB-page workload on a 1 GiB member, a cut every 30 s (86,400
# cuts), a retention pass every simulated hour under every-write:24h,hourly:7d,daily:30d.
# Reports the secondary's bytes by part against keeping everything (target <= 0.15x) and
# against the least the kept points need; MiB freed per second of retention pass against rm -r
# of files as large; and opening points 1e2, 1e3, 1e4 cuts back and random 8 KiB reads of the
# point 1e4 back against the live set, on the merged history and on the set that keeps everything.
#
#   bench/retention.sh [DAYS] [PAGE_WRITES_PER_CUT] [KEEP_ALL_DAYS] [VOLUME_MIB]   (default 30 8 4 1024)
#
# The set that keeps everything runs KEEP_ALL_DAYS of the month beside the other (fed the same
# writes), then its size at the month's end is estimated from its growth per cut. Work files
# (about 8 GiB at the defaults, at most) go to a temporary directory under ${TMPDIR:-/tmp},
# removed at the end; each cut forces several files, so on a slow disk the month takes an hour
# or more: TMPDIR=/dev/shm (about 8 GiB of memory) runs it in about 20 minutes on 2 cores.
# Not a test: figures depend on the machine's load. REBUILD=1 rebuilds the jar first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$here/cli/target/rewind.jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$here" && ./mvnw -q -o -B -pl cli -am package -Dmaven.test.skip=true)
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-retention-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
java -Xmx2g -cp "$here/cli/target/rewind.jar:$here/cli/target/lib/*" dev.rewind.cli.bench.RetentionBenchmark "$work/run" "$@"
