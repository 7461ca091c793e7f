#!/usr/bin/env bash
# History benchmark: cold open time and heap of a journal holding 1e5, 1e6 and 1e7 records
# (WRITE_ZEROES, no payload, so 1e7 fits the disk: ~0.5 GiB of segments and ~0.3 GiB of
# index files). For each size the journal is written once, then opened in a fresh JVM RUNS
# times (default 3); it prints the median open time and heap in use after open + GC.
#
#   bench/history.sh [SIZES...]          (default: 100000 1000000 10000000)
#
# BASE_CP: a classpath of an older build (its increments and volume-set jars plus their
# dependencies and a compiled HistoryBenchmark); when set, the same journals are also opened
# with it and its figures printed beside ours. The page cache is not dropped (the machine is
# shared): "cold" means a fresh JVM, with the journal's files likely in the page cache.
# Not a test: figures depend on the machine's load.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then sizes=(100000 1000000 10000000); fi
if [ ! -f "$here/cli/target/rewind.jar" ] || [ -n "${REBUILD:-}" ]; then
  (cd "$here" && ./mvnw -q -o -B -pl cli -am package -DskipTests)
fi
cp="$here/cli/target/rewind.jar:$here/cli/target/lib/*"
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-history-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
jvm=(java -Xmx4g -XX:+UseSerialGC)

median_of() { # prints the median of column $1 of the lines on stdin
  awk -v c="$1" '{print $c}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
measure() { # classpath, dir -> "open_ms heap_mib"
  local out=""
  for ((i = 0; i < runs; i++)); do
    out+="$("${jvm[@]}" -cp "$1" dev.rewind.cli.bench.HistoryBenchmark open "$2" 2>/dev/null | tail -1)"$'\n'
  done
  local ms heap
  ms=$(printf '%s' "$out" | median_of 1)
  heap=$(printf '%s' "$out" | median_of 2)
  printf '%s %.1f' "$ms" "$(echo "$heap / 1048576" | bc -l)"
}

printf '%-10s %10s %12s %12s' records "journal MiB" "open ms" "heap MiB"
[ -n "${BASE_CP:-}" ] && printf ' %14s %14s' "base open ms" "base heap MiB"
printf '\n'
for n in "${sizes[@]}"; do
  dir="$work/j$n"
  "${jvm[@]}" -cp "$cp" dev.rewind.cli.bench.HistoryBenchmark write "$dir" "$n" 2>/dev/null
  mib=$(du -sm "$dir" | cut -f1)
  read -r ms heap <<<"$(measure "$cp" "$dir")"
  printf '%-10s %10s %12s %12s' "$n" "$mib" "$ms" "$heap"
  if [ -n "${BASE_CP:-}" ]; then
    read -r bms bheap <<<"$(measure "$BASE_CP" "$dir")"
    printf ' %14s %14s' "$bms" "$bheap"
  fi
  printf '\n'
  rm -rf "$dir"
done
