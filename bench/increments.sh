#!/usr/bin/env bash
# Transactions benchmark (issue 12), in process on sets made in a temporary directory; prints
# one Markdown table on stdout (progress on stderr):
#   1. 4 KiB random writes for 10 s with a cut every second against no cuts (target >= 0.9x);
#   2. cut throughput (changed MiB/s of cut(), per codec) against copying the same blocks
#      with FileChannel and forcing (target >= 0.5x);
#   3. the bank on H2 on a set, per codec (zstd, lz4, none): both increments' bytes per
#      changed MiB and CPU seconds of the cuts per changed GiB;
#   4. the secondary's growth (journal, increments; the replica's size) per changed MiB;
#   5. a restore in place an hour (3600 simulated seconds) of 8 KiB-page load back, through
#      increments against through the journal alone: time and bytes read.
#
#   bench/increments.sh [--quick] [--sections DIGITS]   (e.g. --sections 125; 3 and 4 run together)
#
# Needs about 8 GiB free under TMPDIR (full run; --quick: about 1 GiB). Not a test: figures
# depend on the machine's load. REBUILD=1 rebuilds the jar first.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$here/cli/target/rewind.jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$here" && ./mvnw -q -o -B -pl cli -am package -DskipTests)
fi
cp="$here/cli/target/rewind.jar:$here/cli/target/lib/*"
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-increments-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
java -Xmx2g -cp "$cp" dev.rewind.cli.bench.IncrementsBenchmark "$@" "$work/run"
