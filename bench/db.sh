#!/usr/bin/env bash
# Database benchmark: PostgreSQL with its data directory and its WAL on two Rewind members
# (rewind serve -> nbdfuse -> loop device -> ext4), in one run:
#
#  (a) pgbench TPS on that stack against the same stack on two `nbdkit file` exports of the
#      same sizes (target >= 0.9x);
#  (b) a coordinated-style restore (stop PostgreSQL and take the volumes off, restore in place,
#      put them back, start, wait until it accepts connections) to a point one minute back
#      against one far back on the same history (cost follows change);
#  (c) both against a pgBackRest-style restore to the same points: stop, delete the data
#      directory and the WAL, copy back the whole copy taken at that point (pg_basebackup),
#      start, wait until it accepts connections (the copy is written through Rewind too).
#
#   bench/db.sh [--quick]
#
# The far point is an hour back (SPAN_MIN=60); --quick makes it 4 minutes back and the TPS
# runs 30 s instead of 120 s, and says so in the output. Between the points pgbench runs
# rate-limited (RATE tps, default 100) so that an hour of history stays a few GiB.
# Needs root (loop devices, mount), nbdfuse, nbdkit, fuse3, e2fsprogs, postgresql, a JDK 17+.
# Not a test: figures depend on the machine's load.
# REWIND_JAVA_OPTS is passed to the rewind serve JVM (e.g. -XX:StartFlightRecording=filename=serve.jfr).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=""
if [ "${1:-}" = --quick ]; then quick=1; fi
span_min="${SPAN_MIN:-60}"; tps_s="${TPS_S:-120}"
if [ -n "$quick" ]; then span_min=4; tps_s=30; fi
rate="${RATE:-100}"
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
[ "$(id -u)" = 0 ] || { echo "bench/db.sh: needs root (loop devices, mount)" >&2; exit 2; }
for tool in nbdfuse nbdkit fusermount3 losetup mkfs.ext4 java python3 "$pgbin/pgbench" "$pgbin/pg_basebackup"; do
  command -v "$tool" >/dev/null || { echo "bench/db.sh: $tool is missing (apt-get install nbdfuse nbdkit fuse3 e2fsprogs postgresql)" >&2; exit 2; }
done
jar="$here/cli/target/rewind.jar"
if [ ! -f "$jar" ]; then (cd "$here" && ./mvnw -q -o -B -pl cli -am package -DskipTests); fi

data_mib=640; wal_mib=640
work="$(mktemp -d /tmp/rewind-db-bench.XXXXXX)"
chmod 755 "$work"
mkdir -m 777 "$work/sock" "$work/log"
mkdir -m 700 "$work/copies" && chown postgres: "$work/copies"   # pg_basebackup runs as postgres
rewind_pid=""; nbdkit_pids=()
pgdata="$work/mnt-data/pgdata"
port=""

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { # port pid
  for _ in $(seq 1 900); do
    (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server (pid $2) exited before listening on port $1" >&2; exit 1; }
    sleep 0.1
  done
  echo "port $1 never opened" >&2; exit 1
}
now() { date +%s.%N; }
secs() { python3 -c "print('%.1f' % ($2 - $1))"; }
pg_ctl() { runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" "$@" >/dev/null; }
# A restored image holds the postmaster.pid of the server that ran at that write; PostgreSQL refuses
# to start while that PID lives, even as a zombie not yet reaped: remove it when it names no live postgres.
clear_stale_pid() {
  [ -f "$pgdata/postmaster.pid" ] || return 0
  local pid; pid=$(head -n 1 "$pgdata/postmaster.pid")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != postgres ] || grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
    rm -f "$pgdata/postmaster.pid"
  fi
}
pg_up() {
  clear_stale_pid
  pg_ctl -l "$work/log/postgresql.log" -w -t 900 start || { echo "PostgreSQL did not start: see $work/log/postgresql.log" >&2; return 1; }
  until "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; do sleep 0.1; done
}
pg_down() { if [ -f "$pgdata/postmaster.pid" ]; then pg_ctl -m fast -w -t 300 stop; fi; }
pgbench() { "$pgbin/pgbench" -h 127.0.0.1 -p "$port" -U postgres "$@" postgres; }

# volumes_up URI_PREFIX: each member through nbdfuse and a loop device, mounted (as the DBA's start.sh does)
volumes_up() {
  for m in data wal; do
    mkdir -p "$work/fuse-$m" "$work/mnt-$m"
    rm -f "$work/nbdfuse-$m.pid"
    setsid nbdfuse -P "$work/nbdfuse-$m.pid" "$work/fuse-$m" "$1$m" </dev/null >>"$work/nbdfuse.log" 2>&1 &
    until [ -s "$work/nbdfuse-$m.pid" ] && [ -e "$work/fuse-$m/nbd" ]; do sleep 0.1; done
    loop=$(losetup -f --show "$work/fuse-$m/nbd")
    if [ "${2:-}" = mkfs ]; then mkfs.ext4 -q "$loop"; fi
    mount "$loop" "$work/mnt-$m"
  done
}
# volumes_down: unmount, detach, nbdfuse gone (as the DBA's stop.sh does)
volumes_down() {
  for m in data wal; do
    # a file system just left by a stopping server can be busy for a moment: retry, then give up loudly
    n=0; while mountpoint -q "$work/mnt-$m" && ! umount "$work/mnt-$m" 2>/dev/null; do
      n=$((n + 1)); [ "$n" -lt 100 ] || { echo "cannot unmount $work/mnt-$m" >&2; return 1; }; sleep 0.2; done
    if [ -e "$work/fuse-$m/nbd" ]; then for l in $(losetup -j "$work/fuse-$m/nbd" -n -O NAME); do losetup -d "$l"; done; fi
    n=0; while mountpoint -q "$work/fuse-$m" && ! fusermount3 -u "$work/fuse-$m" 2>/dev/null; do
      n=$((n + 1)); [ "$n" -lt 100 ] || { echo "cannot unmount $work/fuse-$m" >&2; return 1; }; sleep 0.2; done
    if [ -s "$work/nbdfuse-$m.pid" ]; then
      pid=$(cat "$work/nbdfuse-$m.pid"); while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; rm -f "$work/nbdfuse-$m.pid"
    fi
  done
}
cleanup() {
  set +e
  pg_down 2>/dev/null || runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1
  volumes_down
  if [ -n "$rewind_pid" ]; then kill -TERM "$rewind_pid"; wait "$rewind_pid"; fi
  for p in "${nbdkit_pids[@]}"; do kill -TERM "$p"; wait "$p"; done
  if grep -q " $work/" /proc/mounts; then echo "bench/db.sh: something under $work is still mounted; leaving it" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# new_cluster: initdb on the mounted members, our port and socket, pgbench -i -s 10
new_cluster() {
  mkdir -p "$pgdata" "$work/mnt-wal/pg_wal"
  chown postgres: "$pgdata" "$work/mnt-wal/pg_wal"
  runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -X "$work/mnt-wal/pg_wal" -U postgres -A trust -E UTF8 --locale=C \
    --no-instructions >/dev/null
  port=$(free_port)
  runuser -u postgres -- sh -c "printf '%s\n' \"listen_addresses = '127.0.0.1'\" 'port = $port' \
    \"unix_socket_directories = '$work/sock'\" \"max_wal_size = '256MB'\" \"min_wal_size = '80MB'\" >> '$pgdata/postgresql.auto.conf'"
  sync -f "$pgdata/postgresql.auto.conf" # initdb fsyncs its files; a restore to a later point must not find our append half written
  pg_up
  pgbench -i -s 10 -q >/dev/null 2>&1
}
tps() { pgbench -c 4 -j 2 -T "$tps_s" 2>/dev/null | awk '/^tps = / {printf "%.1f\n", $3; exit}'; }
rewind() { java -jar "$jar" --data "$work/rewind-data" "$@"; }
last_seq() { rewind status set --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sets"][0]["lastSeq"])'; }

echo "bench/db.sh: $( [ -n "$quick" ] && echo "--quick: far point ${span_min} min back (not an hour), TPS runs ${tps_s} s" \
  || echo "far point ${span_min} min back, TPS runs ${tps_s} s" ); pgbench -s 10, -c 4 -j 2" >&2

# (a) nbdkit file: two exports of the same sizes
dd if=/dev/zero of="$work/plain-data.img" bs=1M count="$data_mib" conv=fsync status=none
dd if=/dev/zero of="$work/plain-wal.img" bs=1M count="$wal_mib" conv=fsync status=none
kports=()
for m in data wal; do
  kp=$(free_port)
  nbdkit -f -i 127.0.0.1 -p "$kp" file "$work/plain-$m.img" 2>>"$work/nbdkit.log" &
  nbdkit_pids+=($!); kports+=("$kp")
  wait_port "$kp" "$!"
done
mkdir -p "$work/fuse-data" "$work/fuse-wal"
# nbdkit serves one export per port: a URI prefix per member does not fit, so attach by hand
for i in 0 1; do
  m=$([ "$i" = 0 ] && echo data || echo wal)
  setsid nbdfuse -P "$work/nbdfuse-$m.pid" "$work/fuse-$m" "nbd://127.0.0.1:${kports[$i]}" </dev/null >>"$work/nbdfuse.log" 2>&1 &
  until [ -s "$work/nbdfuse-$m.pid" ] && [ -e "$work/fuse-$m/nbd" ]; do sleep 0.1; done
  loop=$(losetup -f --show "$work/fuse-$m/nbd"); mkfs.ext4 -q "$loop"; mkdir -p "$work/mnt-$m"; mount "$loop" "$work/mnt-$m"
done
new_cluster
echo "nbdkit file: pgbench -i done, running pgbench for ${tps_s} s" >&2
tps_nbdkit=$(tps)
pg_down; volumes_down
for p in "${nbdkit_pids[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
nbdkit_pids=(); rm -f "$work"/plain-*.img

# (a) Rewind: the same sizes as LVs of one set
rewind init >/dev/null
rewind pv create pv0 --path "$work/pv0.img" --size $((data_mib + wal_mib + 20))M >/dev/null
rewind vg create vg0 --pv pv0 --extent-size 1M >/dev/null
rewind lv create data --vg vg0 --size "${data_mib}M" >/dev/null
rewind lv create wal --vg vg0 --size "${wal_mib}M" >/dev/null
rewind set create set --member vg0/data --member vg0/wal >/dev/null
rport=$(free_port)
# --insecure: fio writes over TCP without a client certificate (as nbdkit lets it)
java ${REWIND_JAVA_OPTS:-} -jar "$jar" --data "$work/rewind-data" serve --listen "127.0.0.1:$rport" --insecure >>"$work/serve.log" 2>&1 &
rewind_pid=$!
wait_port "$rport" "$rewind_pid"
uri="nbd://127.0.0.1:$rport/set/"
volumes_up "$uri" mkfs
new_cluster
echo "rewind: pgbench -i done, running pgbench for ${tps_s} s" >&2
tps_rewind=$(tps)

# (b) history: the far point, then pgbench at RATE tps until one minute before the end
far_seq=$(last_seq)
runuser -u postgres -- "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$work/copies/far" -X stream -c fast
echo "far point: seq $far_seq; pgbench -R $rate for $((span_min - 1)) min" >&2
pgbench -c 4 -j 2 -R "$rate" -T $(((span_min - 1) * 60)) >/dev/null 2>&1
near_seq=$(last_seq)
runuser -u postgres -- "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$work/copies/near" -X stream -c fast
echo "near point: seq $near_seq; pgbench -R $rate for 1 min" >&2
pgbench -c 4 -j 2 -R "$rate" -T 60 >/dev/null 2>&1
head_seq=$(last_seq)

rewind_restore() { # seq -> seconds; its steps' times on stderr
  local t0 t1 t2 t3
  t0=$(now)
  pg_down; volumes_down
  t1=$(now)
  rewind restore set --to-seq "$1" --json >"$work/restore.json"
  t2=$(now)
  volumes_up "$uri"; pg_up
  t3=$(now)
  echo "  to seq $1: stop + volumes off $(secs "$t0" "$t1") s, rewind restore $(secs "$t1" "$t2") s, volumes on + start $(secs "$t2" "$t3") s" >&2
  secs "$t0" "$t3"
}
copy_restore() { # copy dir -> seconds
  local t0 t1
  t0=$(now)
  pg_down
  find "$pgdata" -mindepth 1 -maxdepth 1 ! -name pg_wal -exec rm -rf {} +
  find "$work/mnt-wal/pg_wal" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  (cd "$1" && find . -mindepth 1 -maxdepth 1 ! -name pg_wal -exec cp -a {} "$pgdata/" \;)
  cp -a "$1/pg_wal/." "$work/mnt-wal/pg_wal/"
  sync -f "$pgdata" "$work/mnt-wal/pg_wal"
  local tc; tc=$(now)
  pg_up
  t1=$(now)
  echo "  from $1: stop + delete + copy + sync $(secs "$t0" "$tc") s, start $(secs "$tc" "$t1") s" >&2
  secs "$t0" "$t1"
}
echo "coordinated-style restores (stop, restore in place, start, accepting connections)" >&2
rw_near=$(rewind_restore "$near_seq")
rw_near_bytes=$(python3 -c 'import json; print(json.load(open("'"$work/restore.json"'")).get("bytesWritten", "?"))')
rw_far=$(rewind_restore "$far_seq")
rw_far_bytes=$(python3 -c 'import json; print(json.load(open("'"$work/restore.json"'")).get("bytesWritten", "?"))')
echo "pgBackRest-style restores (stop, delete, copy the whole data directory back, start, accepting connections)" >&2
cp_near=$(copy_restore "$work/copies/near")
cp_far=$(copy_restore "$work/copies/far")
copy_mib=$(du -sm "$work/copies/near" | awk '{print $1}')

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
span_label="${span_min} min back$([ -n "$quick" ] && echo ' (--quick)')"
echo
echo "pgbench -s 10, -c 4 -j 2, ${tps_s} s; history: pgbench -R $rate between the points, seqs $far_seq (far) .. $near_seq (near) .. $head_seq (head)"
printf "%-75s %12s %12s %8s\n" "measure" "Rewind" "peer" "ratio"
printf "%-75s %12s %12s %8sx  target >= 0.9x: %s\n" "(a) pgbench TPS, Rewind vs nbdkit file" "$tps_rewind" "$tps_nbdkit" \
  "$(ratio "$tps_rewind" "$tps_nbdkit")" "$(python3 -c "print('met' if $tps_rewind / $tps_nbdkit >= 0.9 else 'MISSED')")"
printf "%-75s %11ss %11ss %8sx\n" "(b) coordinated restore: 1 min back vs $span_label" "$rw_near" "$rw_far" "$(ratio "$rw_near" "$rw_far")"
printf "%-75s %11ss %11ss %8sx\n" "(c) 1 min back: Rewind vs copy back (${copy_mib} MiB)" "$rw_near" "$cp_near" "$(ratio "$rw_near" "$cp_near")"
printf "%-75s %11ss %11ss %8sx\n" "(c) $span_label: Rewind vs copy back (${copy_mib} MiB)" "$rw_far" "$cp_far" "$(ratio "$rw_far" "$cp_far")"
echo "restore in place rewrote: 1 min back ${rw_near_bytes} bytes, far back ${rw_far_bytes} bytes"
