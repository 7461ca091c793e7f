#!/usr/bin/env bash
# CLI latency benchmark: median wall time of N runs of each short command through ./rewind
# (the way scripts and monitoring call it), first with no daemon (the command opens the data
# dir itself), then with `rewind serve` running (the command is forwarded to it).
# Usage: bench/cli.sh [N]   (default 11). Not a test: figures depend on the machine's load.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-11}"
rewind="$here/rewind"
"$rewind" --version >/dev/null   # builds and makes the class data archive if needed
work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-cli-bench.XXXXXX")"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/rewind-data"
r() { "$rewind" --data "$data" "$@"; }
r init >/dev/null
r pv create disk1 --path "$work/disk1.img" --size 64M >/dev/null
r vg create vg0 --pv disk1 >/dev/null
r lv create data --vg vg0 --size 16M >/dev/null
r set create shop --member vg0/data >/dev/null

# median wall seconds of $runs runs of: rewind --data DIR ARGS...
median() {
  local times=() i start end
  for ((i = 0; i < runs; i++)); do
    local args=("$@")
    if [ "${args[0]}" = bookmark ]; then args+=("b$(date +%s%N)"); fi
    start=$(date +%s%N)
    r "${args[@]}" >/dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

commands=("status --json" "status" "log shop" "set list" "bookmark shop" "--help")
declare -A without
for c in "${commands[@]}"; do without[$c]=$(median $c); done

"$rewind" --data "$data" serve --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do [ -f "$data/daemon.json" ] && break; sleep 0.1; done
[ -f "$data/daemon.json" ] || { echo "rewind serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
declare -A with
for c in "${commands[@]}"; do with[$c]=$(median $c); done

echo "CLI latency, median of $runs runs (s), load average $(cut -d' ' -f1-3 /proc/loadavg):"
printf "%-28s %12s %16s %8s\n" "command" "no daemon" "rewind serve" "target"
for c in "${commands[@]}"; do
  t="< 0.5"; [ "$c" = "--help" ] && t="-"
  printf "%-28s %12s %16s %8s\n" "rewind $c" "${without[$c]}" "${with[$c]}" "$t"
done
