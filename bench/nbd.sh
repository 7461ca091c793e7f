#!/usr/bin/env bash
# NBD benchmark: the same kind of file served by `rewind serve` (capture on: every write
# journaled, then written to the primary) and by `nbdkit file`, both driven by
# `fio --ioengine=nbd` in one run. Prints each figure and the ratio Rewind/nbdkit.
#
#   bench/nbd.sh [SIZE_MIB] [RUNTIME_S]      (defaults: 1024 MiB, 20 s per job)
#
# Needs: a JDK 17+, fio, nbdkit (Debian: fio nbdkit).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${1:-1024}"
runtime="${2:-20}"
for tool in fio nbdkit java; do
  command -v "$tool" >/dev/null || { echo "bench/nbd.sh: $tool is not installed (apt-get install fio nbdkit)" >&2; exit 2; }
done
jar="$here/cli/target/rewind.jar"
if [ ! -f "$jar" ]; then (cd "$here" && ./mvnw -q -B -Dmaven.test.skip=true -pl cli -am package); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-nbd-bench.XXXXXX")"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
allocate() { dd if=/dev/zero of="$1" bs=1M count="$2" conv=fsync status=none; }
wait_port() { for _ in $(seq 1 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

# Rewind: a whole-PV member on an allocated file (like a disk), secondary beside it.
rewind() { java -jar "$jar" --data "$work/rewind-data" "$@"; }
allocate "$work/pv.img" $((size_mib + 1))
rewind init >/dev/null
rewind pv create pv --path "$work/pv.img" >/dev/null
rewind set create bench --member pv:pv >/dev/null
rport=$(free_port)
rewind serve --listen "127.0.0.1:$rport" >"$work/serve.log" 2>&1 &
pids+=($!)
# nbdkit: the same size of allocated file.
allocate "$work/plain.img" "$size_mib"
kport=$(free_port)
nbdkit -f -i 127.0.0.1 -p "$kport" file "$work/plain.img" &
pids+=($!)
wait_port "$rport"; wait_port "$kport"

run_fio() { # uri rw bs iodepth -> MiB/s
  fio --name=job --ioengine=nbd --uri="$1" --rw="$2" --bs="$3" --iodepth="$4" --size="${size_mib}M" \
      --time_based --runtime="$runtime" --ramp_time=2 --output-format=json 2>/dev/null \
    | python3 -c 'import json,sys; t=sys.stdin.read(); j=json.loads(t[t.index("{"):])["jobs"][0]; print("%.1f" % ((j["read"]["bw"]+j["write"]["bw"])/1024))'
}

printf "%-28s %12s %12s %8s %8s\n" "fio job (nbd engine)" "rewind MiB/s" "nbdkit MiB/s" "ratio" "target"
for job in "randwrite 4k 16 0.8" "randread 4k 16 1.0" "write 1M 4 0.5"; do
  set -- $job
  r=$(run_fio "nbd://127.0.0.1:$rport/bench/pv" "$1" "$2" "$3")
  k=$(run_fio "nbd://127.0.0.1:$kport/" "$1" "$2" "$3")
  ratio=$(python3 -c "print('%.2f' % ($r / $k))")
  met=$(python3 -c "print('met' if $r / $k >= $4 else 'MISSED')")
  printf "%-28s %12s %12s %7sx %6s %s\n" "$1 bs=$2 qd=$3" "$r" "$k" "$ratio" ">=$4" "$met"
done
