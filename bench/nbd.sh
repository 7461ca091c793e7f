#!/usr/bin/env bash
# NBD benchmark: the same kind of file served by `rewind serve` (capture on: every write
# journaled, then written to the primary) and by `nbdkit file`, both driven by
# `fio --ioengine=nbd`. Every job runs RUNS times on each server; it prints every figure, the
# medians and the ratio of the medians (Rewind/nbdkit).
#
#   bench/nbd.sh [SIZE_MIB] [RUNTIME_S]      (defaults: 1024 MiB, 20 s per timed job)
#
# Jobs:
#   randwrite/randread 4k qd16   timed, over SIZE_MIB
#   write 1M qd4 cached          timed, over SIZE_MIB: nbdkit overwrites pages already in the
#                                page cache, Rewind appends new journal pages (not disk-bound)
#   write 1M qd4 end_fsync       SIZE_MIB written once, then a flush; the time includes the flush
#   write 1M qd4 > dirty limit   DISK_MIB written once, then a flush: more than the kernel lets
#                                stay dirty, so both servers run at the disk's write-back speed
#
# Environment: RUNS (default 3); DISK_MIB (default 1.25 x the kernel's dirty page limit, from
# /proc/sys/vm/dirty_bytes or dirty_ratio of MemAvailable; 0 skips that job);
# REWIND_JAVA_OPTS (JVM options for `rewind serve`, e.g. -XX:StartFlightRecording=filename=x.jfr);
# KEEP_JFR_DIR (a directory the serve JVMs' *.jfr files are copied to before the work dir goes);
# ONLY (a regular expression: run only the jobs whose label matches, e.g. ONLY=randwrite).
# Every Rewind run starts on a fresh set (a fresh journal) on the same allocated PV file.
#
# Needs: a JDK 17+, fio, nbdkit, python3 (Debian: fio nbdkit).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${1:-1024}"
runtime="${2:-20}"
runs="${RUNS:-3}"
for tool in fio nbdkit java python3; do
  command -v "$tool" >/dev/null || { echo "bench/nbd.sh: $tool is not installed (apt-get install fio nbdkit)" >&2; exit 2; }
done
jar="$here/cli/target/rewind.jar"
if [ ! -f "$jar" ]; then (cd "$here" && ./mvnw -q -B -Dmaven.test.skip=true -pl cli -am package); fi

dirty_limit_mib() {
  local bytes ratio avail_kib
  bytes=$(cat /proc/sys/vm/dirty_bytes 2>/dev/null || echo 0)
  if [ "$bytes" -gt 0 ]; then echo $((bytes >> 20)); return; fi
  ratio=$(cat /proc/sys/vm/dirty_ratio 2>/dev/null || echo 20)
  avail_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
  echo $((avail_kib * ratio / 100 / 1024))
}
if [ -z "${DISK_MIB:-}" ]; then
  limit=$(dirty_limit_mib)
  DISK_MIB=$((limit * 5 / 4))
  echo "kernel dirty page limit ~${limit} MiB; disk-bound working set ${DISK_MIB} MiB" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-nbd-bench.XXXXXX")"
rewind_pid=""
nbdkit_pid=""
stop_rewind() {
  if [ -n "$rewind_pid" ]; then
    kill -TERM "$rewind_pid" 2>/dev/null || true
    wait "$rewind_pid" 2>/dev/null || true
    rewind_pid=""
  fi
}
stop_nbdkit() {
  if [ -n "$nbdkit_pid" ]; then
    kill -TERM "$nbdkit_pid" 2>/dev/null || true
    wait "$nbdkit_pid" 2>/dev/null || true
    nbdkit_pid=""
  fi
}
cleanup() {
  stop_rewind
  stop_nbdkit
  if [ -n "${KEEP_JFR_DIR:-}" ]; then find "$work" -name '*.jfr' -exec cp {} "$KEEP_JFR_DIR"/ \; 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
allocate() { dd if=/dev/zero of="$1" bs=1M count="$2" conv=fsync status=none; }
wait_port() { # port pid
  for _ in $(seq 1 300); do
    (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server (pid $2) exited before listening on port $1" >&2; exit 1; }
    sleep 0.1
  done
  echo "port $1 never opened" >&2; exit 1
}

# Rewind: a whole-PV member on an allocated file (like a disk), secondary beside it.
# The JVM is started directly (not through a shell function), so $! is its pid.
rewind_cli() { java -jar "$jar" --data "$work/rewind-data" "$@" >/dev/null; }
rport=""
start_rewind() { # pv-file
  stop_rewind
  rm -rf "$work/rewind-data"
  dd if=/dev/zero of="$1" bs=1M count=1 conv=notrunc,fsync status=none # forget the previous PV label
  rewind_cli init
  rewind_cli pv create pv --path "$1"
  rewind_cli set create bench --member pv:pv
  rport=$(free_port)
  # shellcheck disable=SC2086
  # --insecure: fio writes over TCP without a client certificate (as nbdkit lets it)
  java ${REWIND_JAVA_OPTS:-} -jar "$jar" --data "$work/rewind-data" serve --listen "127.0.0.1:$rport" --insecure \
    >>"$work/serve.log" 2>&1 &
  rewind_pid=$!
  wait_port "$rport" "$rewind_pid"
}
kport=""
start_nbdkit() { # file
  stop_nbdkit
  kport=$(free_port)
  nbdkit -f -i 127.0.0.1 -p "$kport" file "$1" 2>>"$work/nbdkit.log" & # (the port probe makes it log a bad handshake)
  nbdkit_pid=$!
  wait_port "$kport" "$nbdkit_pid"
}

run_fio() { # uri rw bs iodepth size_mib mode(timed|once) -> MiB/s
  local extra=(--time_based --runtime="$runtime" --ramp_time=2)
  if [ "$6" = once ]; then extra=(--end_fsync=1); fi
  fio --name=job --ioengine=nbd --uri="$1" --rw="$2" --bs="$3" --iodepth="$4" --size="${5}M" "${extra[@]}" \
      --output-format=json 2>/dev/null \
    | python3 -c 'import json,sys; t=sys.stdin.read(); j=json.loads(t[t.index("{"):])["jobs"][0]; print("%.1f" % ((j["read"]["bw"]+j["write"]["bw"])/1024))'
}
median() { python3 -c 'import statistics,sys; print("%.1f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

jobs=("randwrite 4k 16 timed $size_mib 1.0" "randread 4k 16 timed $size_mib 1.0" "write 1M 4 timed $size_mib -"
      "write 1M 4 once $size_mib 0.5")
if [ "$DISK_MIB" -gt 0 ]; then
  jobs+=("write 1M 4 once $DISK_MIB 0.5")
fi

results=()
for job in "${jobs[@]}"; do
  read -r rw bs qd mode mib target <<<"$job"
  pv="$work/pv.img"; plain="$work/plain.img"
  if [ "$mib" != "$size_mib" ]; then pv="$work/pv-disk.img"; plain="$work/plain-disk.img"; fi
  case "$rw/$mode" in
    write/timed) label="$rw bs=$bs qd=$qd cached" ;;
    write/once) label="$rw bs=$bs qd=$qd ${mib}M end_fsync" ;;
    *) label="$rw bs=$bs qd=$qd" ;;
  esac
  if [ -n "${ONLY:-}" ] && ! [[ "$label" =~ $ONLY ]]; then continue; fi
  [ -f "$pv" ] || allocate "$pv" $((mib + 1))
  [ -f "$plain" ] || allocate "$plain" "$mib"
  rs=(); ks=()
  for i in $(seq 1 "$runs"); do
    start_rewind "$pv"
    r=$(run_fio "nbd://127.0.0.1:$rport/bench/pv" "$rw" "$bs" "$qd" "$mib" "$mode")
    stop_rewind
    start_nbdkit "$plain"
    k=$(run_fio "nbd://127.0.0.1:$kport/" "$rw" "$bs" "$qd" "$mib" "$mode")
    stop_nbdkit
    echo "  $label run $i: rewind $r MiB/s, nbdkit $k MiB/s" >&2
    rs+=("$r"); ks+=("$k")
  done
  rm=$(median "${rs[@]}"); km=$(median "${ks[@]}")
  ratio=$(python3 -c "print('%.2f' % ($rm / $km))")
  if [ "$target" = - ]; then met="(not disk-bound: no target)"; else
    met=$(python3 -c "print('met' if $rm / $km >= $target else 'MISSED')"); target=">=$target"; fi
  results+=("$(printf "%-34s %10s %10s %7sx %6s %s   rewind: %s nbdkit: %s" "$label" "$rm" "$km" "$ratio" "$target" "$met" \
    "${rs[*]}" "${ks[*]}")")
done

printf "%-34s %10s %10s %8s %6s\n" "fio job (nbd engine), median of $runs" "rewind" "nbdkit" "ratio" "target"
printf "%s\n" "${results[@]}"
