#!/usr/bin/env bash
# PostgreSQL on Rewind, end to end: the data directory and pg_wal on two members of one
# production volume set, pgbench running, a consistent bookmark, a DROP TABLE by mistake,
# finding it in the WAL, a look at the past in a sandbox (PostgreSQL started there beside
# production), bisect naming the same write, and one coordinated restore to the write just before it.
#
#   sudo examples/postgresql/run.sh            # works in a new /tmp/rewind-pg.XXXXXX, removed when all went well
#   sudo KEEP=1 examples/postgresql/run.sh     # keeps it (volumes, data dir, serve.log) to look at afterwards
#
# Needs root (loop devices, mount), PostgreSQL (the Debian package postgresql), nbdfuse
# (libnbd-bin or nbdfuse), fuse3 and e2fsprogs; ./test.sh installs them when run as root.
# Everything it starts is stopped again at the end, also when a step fails.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-$(mktemp -d /tmp/rewind-pg.XXXXXX)}"
chmod 755 "$work"
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_port="$(free_port)"
export REWIND_DATA="$work/rewind-data"
rewind() { "$repo/rewind" "$@"; }
step() { printf '\n== %s\n' "$*"; }

# --- 1. volumes: one PV file, a VG, LVs 'data' and 'wal', the set 'pg' -------------------
step "1. A production volume set 'pg' with members data (1 GiB) and wal (512 MiB)"
rewind init
rewind pv create pv0 --path "$work/pv0.img" --size 1600M
rewind vg create vg0 --pv pv0
rewind lv create data --vg vg0 --size 1G
rewind lv create wal --vg vg0 --size 512M
rewind set create pg --member vg0/data --member vg0/wal --cut-every 30s

"$repo/rewind" serve >"$work/serve.log" 2>&1 &   # the launcher execs java: $! is the daemon
serve_pid=$!
for _ in $(seq 100); do [ -f "$REWIND_DATA/daemon.json" ] && break; sleep 0.2; done   # then NBD is on $REWIND_DATA/nbd.sock

# --- 2. the two scripts a DBA gives Rewind: how to stop and how to start the database ----
# stop.sh stops PostgreSQL and lets go of the volumes (unmount, detach the loop devices,
# disconnect nbdfuse); start.sh does the reverse. Rewind runs them around a coordinated
# restore, so it never pulls volumes from under a running database.
cat >"$work/start.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
for m in data wal; do
  mkdir -p "$work/nbd-\$m" "$work/mnt-\$m"
  nbdfuse "$work/nbd-\$m/dev" "nbd+unix:///pg/\$m?socket=$REWIND_DATA/nbd.sock" >>"$work/nbdfuse.log" 2>&1 &
  for _ in \$(seq 100); do [ -e "$work/nbd-\$m/dev" ] && break; sleep 0.1; done
  loop=\$(losetup -f --show "$work/nbd-\$m/dev")
  echo "\$loop" > "$work/loop-\$m"
  [ -f "$work/formatted" ] || mkfs.ext4 -q "\$loop"
  mount "\$loop" "$work/mnt-\$m"
done
touch "$work/formatted"
pidfile="$work/mnt-data/pgdata/postmaster.pid"
if [ -f "\$pidfile" ]; then
  # A restored image holds the postmaster.pid of the server that ran when that write was
  # made; PostgreSQL refuses to start while that PID lives (even as a zombie), so a file
  # whose PID is no live postgres is removed.
  pid=\$(head -1 "\$pidfile")
  if [ "\$(cat /proc/\$pid/comm 2>/dev/null)" != postgres ] || grep -q '^State:[[:space:]]*Z' /proc/\$pid/status 2>/dev/null; then
    rm -f "\$pidfile"
  fi
fi
if [ -d "$work/mnt-data/pgdata" ]; then
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/mnt-data/pgdata" -l "$work/pg.log" -w start
fi
START
cat >"$work/stop.sh" <<STOP
#!/usr/bin/env bash
set -uo pipefail
if [ -f "$work/mnt-data/pgdata/postmaster.pid" ]; then
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/mnt-data/pgdata" -m fast -w stop
fi
for m in data wal; do
  mountpoint -q "$work/mnt-\$m" && umount "$work/mnt-\$m"
  [ -f "$work/loop-\$m" ] && losetup -d "\$(cat "$work/loop-\$m")" && rm -f "$work/loop-\$m"
  mountpoint -q "$work/nbd-\$m" && fusermount3 -u "$work/nbd-\$m"
done
exit 0
STOP
chmod 755 "$work/start.sh" "$work/stop.sh"

cleanup() {
  local status=$?
  set +e
  [ -n "${bench_pid:-}" ] && kill "$bench_pid" 2>/dev/null
  "$work/stop.sh" >/dev/null 2>&1
  kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$work"
  else
    echo "files kept in $work (the volumes, the data dir and serve.log; remove it when done)"
  fi
}
trap cleanup EXIT

step "2. ext4 on both members, PostgreSQL with its data on 'data' and pg_wal on 'wal'"
"$work/start.sh"
mkdir -p "$work/mnt-data/pgdata" "$work/mnt-wal/pg_wal" "$work/sock"
chown postgres "$work/mnt-data/pgdata" "$work/mnt-wal/pg_wal" "$work/sock"
touch "$work/pg.log" && chown postgres "$work/pg.log"
runuser -u postgres -- "$pgbin/initdb" -A trust -D "$work/mnt-data/pgdata" -X "$work/mnt-wal/pg_wal" >/dev/null
cat >>"$work/mnt-data/pgdata/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$work/sock'
CONF
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/mnt-data/pgdata" -l "$work/pg.log" -w start >/dev/null
psql() { "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

step "3. Rewind learns about the database: how to reach, stop, start and check it"
rewind db attach pg --jdbc "jdbc:postgresql://127.0.0.1:$pg_port/postgres" --user postgres \
  --stop-cmd "$work/stop.sh" --start-cmd "$work/start.sh" \
  --mount data="$work/mnt-data" --mount wal="$work/mnt-wal" \
  --validate "select count(*) = 1000000 from pgbench_accounts"
rewind db show pg

step "4. pgbench -i -s 10, then pgbench running in the background"
"$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -s 10 -q postgres 2>&1 | tail -1
"$pgbin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -c 4 -j 2 -T 20 postgres >"$work/pgbench.log" 2>&1 &
bench_pid=$!
sleep 5
rewind bookmark pg before-the-mistake --consistent
sleep 5

step "5. The mistake"
psql -c "DROP TABLE pgbench_accounts" postgres
echo "DROP TABLE pgbench_accounts at $(date -u +%H:%M:%S.%N): pgbench's clients fail, PostgreSQL keeps writing"
wait "$bench_pid" || true
bench_pid=
psql -c "select count(*) from pgbench_accounts" postgres 2>&1 | grep ERROR || true

step "6. Where was it? rewind db find reads the WAL on the 'wal' member"
rewind db find pg --sql 'DROP TABLE'
lsn="$(rewind db find pg --sql 'DROP TABLE' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["statements"][-1]["position"])')"

seq_before="$(rewind db find pg --sql 'DROP TABLE' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["statements"][-1]["seqBefore"])')"

step "7. Look before restoring: a sandbox at the bookmark, PostgreSQL started on it beside production"
rewind sandbox create pg look --at bookmark:before-the-mistake
sandbox_port="$(rewind sandbox start pg look --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')"
"$pgbin/psql" -h 127.0.0.1 -p "$sandbox_port" -U postgres -X -q -c "select count(*) as accounts_in_the_sandbox from pgbench_accounts" postgres
"$pgbin/pg_dump" -h 127.0.0.1 -p "$sandbox_port" -U postgres -t pgbench_branches postgres | grep -c "^INSERT\|^COPY" | sed 's/^/pg_dump of pgbench_branches from the sandbox: /;s/$/ COPY block(s)/'
psql -c "select count(*) from pgbench_accounts" postgres 2>&1 | grep ERROR | sed 's/^/production, meanwhile: /' || true
rewind sandbox stop pg look
rewind sandbox drop pg look

step "8. Or let Rewind find the last good write: bisect with a check, a PostgreSQL start per step"
rewind bisect pg --good bookmark:before-the-mistake --check "select to_regclass('public.pgbench_accounts') is not null" \
  | tee "$work/bisect.txt"
last_good="$(sed -n 's/^last good write: seq \([0-9]*\).*/\1/p' "$work/bisect.txt")"
steps="$(grep -c '^step ' "$work/bisect.txt")"
echo "bisect: last good write seq $last_good in $steps steps; db find: seq $seq_before before the DROP TABLE's commit"
[ "$last_good" = "$seq_before" ] || { echo "bisect and db find disagree" >&2; exit 1; }

step "9. One command: stop, restore to the write just before that WAL record, start, validate"
rewind restore pg --before-lsn "$lsn" --coordinated

step "10. The table is back, and whole"
psql -c "select count(*) as accounts, sum(abalance) as balance from pgbench_accounts" postgres
"$pgbin/pg_amcheck" -h 127.0.0.1 -p "$pg_port" -U postgres --install-missing --all && echo "pg_amcheck: no corruption found"
