#!/usr/bin/env bash
# MariaDB on Rewind, end to end: InnoDB's files on one member of a production volume set and
# the binary log on another, a workload running, a consistent bookmark, a TRUNCATE by mistake,
# finding it in the binlog, and one coordinated restore to the write just before it.
#
#   sudo examples/mariadb/run.sh               # works in a new /tmp/rewind-mariadb.XXXXXX, removed when all went well
#   sudo KEEP=1 examples/mariadb/run.sh        # keeps it (volumes, data dir, serve.log) to look at afterwards
#
# Needs root (loop devices, mount), MariaDB (the Debian package mariadb-server), nbdfuse
# (libnbd-bin or nbdfuse), fuse3 and e2fsprogs; ./test.sh installs them when run as root.
# Step 7 opens the past in a sandbox and starts a private MariaDB there before anything is restored;
# step 8 lets bisect find the last write at which the orders were still there.
# Everything it starts is stopped again at the end, also when a step fails.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-$(mktemp -d /tmp/rewind-mariadb.XXXXXX)}"
chmod 755 "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
db_port="$(free_port)"
export REWIND_DATA="$work/rewind-data"
rewind() { "$repo/rewind" "$@"; }
step() { printf '\n== %s\n' "$*"; }
sql() { mariadb --protocol=socket --socket="$work/mysqld.sock" -uroot -N -B shop -e "$1"; }

step "1. A production volume set 'db' with members data (768 MiB) and binlog (256 MiB)"
rewind init
rewind pv create pv0 --path "$work/pv0.img" --size 1100M
rewind vg create vg0 --pv pv0
rewind lv create data --vg vg0 --size 768M
rewind lv create binlog --vg vg0 --size 256M
rewind set create db --member vg0/data --member vg0/binlog --cut-every 30s

"$repo/rewind" serve >"$work/serve.log" 2>&1 &   # the launcher execs java: $! is the daemon
serve_pid=$!
for _ in $(seq 100); do [ -f "$REWIND_DATA/daemon.json" ] && break; sleep 0.2; done   # then NBD is on $REWIND_DATA/nbd.sock

# --- the two scripts a DBA gives Rewind: how to stop and how to start the database -------
cat >"$work/start.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
for m in data binlog; do
  mkdir -p "$work/nbd-\$m" "$work/mnt-\$m"
  nbdfuse "$work/nbd-\$m/dev" "nbd+unix:///db/\$m?socket=$REWIND_DATA/nbd.sock" >>"$work/nbdfuse.log" 2>&1 &
  for _ in \$(seq 100); do [ -e "$work/nbd-\$m/dev" ] && break; sleep 0.1; done
  loop=\$(losetup -f --show "$work/nbd-\$m/dev")
  echo "\$loop" > "$work/loop-\$m"
  [ -f "$work/formatted" ] || mkfs.ext4 -q "\$loop"
  mount "\$loop" "$work/mnt-\$m"
done
touch "$work/formatted"
if [ -d "$work/mnt-data/mysql" ]; then
  mariadbd --defaults-file="$work/my.cnf" >>"$work/mariadb.log" 2>&1 &
  for _ in \$(seq 300); do mariadb-admin --socket="$work/mysqld.sock" -uroot ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
  echo "mariadbd did not start; see $work/mariadb.log" >&2; exit 1
fi
START
cat >"$work/stop.sh" <<STOP
#!/usr/bin/env bash
set -uo pipefail
if [ -S "$work/mysqld.sock" ]; then
  mariadb-admin --socket="$work/mysqld.sock" -uroot shutdown
fi
for m in data binlog; do
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
  [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null
  "$work/stop.sh" >/dev/null 2>&1
  kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then
    rm -rf "$work"
  else
    echo "files kept in $work (the volumes, the data dir and serve.log; remove it when done)"
  fi
}
trap cleanup EXIT

step "2. ext4 on both members; MariaDB with InnoDB on 'data' and the binlog on 'binlog'"
"$work/start.sh"
cat >"$work/my.cnf" <<CNF
[mariadbd]
user = mysql
datadir = $work/mnt-data/mysql
socket = $work/mysqld.sock
pid-file = $work/mysqld.pid
port = $db_port
bind-address = 127.0.0.1
log-bin = $work/mnt-binlog/binlog/mysql-bin
server-id = 1
binlog-format = ROW
sync-binlog = 1
innodb-flush-log-at-trx-commit = 1
log-error = $work/mariadb.log
CNF
mkdir -p "$work/mnt-data/mysql" "$work/mnt-binlog/binlog"
chown mysql "$work/mnt-data/mysql" "$work/mnt-binlog/binlog" "$work"
mariadb-install-db --defaults-file="$work/my.cnf" --auth-root-authentication-method=socket >/dev/null
mariadbd --defaults-file="$work/my.cnf" >>"$work/mariadb.log" 2>&1 &
for _ in $(seq 300); do mariadb-admin --socket="$work/mysqld.sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
umask 077
head -c 18 /dev/urandom | base64 > "$work/db-password"
mariadb --socket="$work/mysqld.sock" -uroot -e "CREATE DATABASE shop;
  CREATE USER rewind@'127.0.0.1' IDENTIFIED BY '$(cat "$work/db-password")';
  GRANT ALL ON *.* TO rewind@'127.0.0.1';"
sql "CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, amount DECIMAL(10,2)) ENGINE=InnoDB"

step "3. Rewind learns about the database (the password comes from a 0600 file, never argv)"
rewind db attach db --jdbc "jdbc:mariadb://127.0.0.1:$db_port/shop" --user rewind --password-file "$work/db-password" \
  --stop-cmd "$work/stop.sh" --start-cmd "$work/start.sh" \
  --mount data="$work/mnt-data" --mount binlog="$work/mnt-binlog" \
  --validate "select count(*) > 0 from orders"
rewind db show db

step "4. Orders keep coming in"
( for i in $(seq 1 3000); do echo "INSERT INTO orders(customer, amount) VALUES ($((i % 97)), $i.25);"; done \
    | mariadb --socket="$work/mysqld.sock" -uroot shop ) &
load_pid=$!
sleep 4
rewind bookmark db before-the-mistake --consistent
wait "$load_pid"; load_pid=
sql "select count(*), sum(amount) from orders"

step "5. The mistake"
sql "TRUNCATE TABLE orders"
sql "INSERT INTO orders(customer, amount) VALUES (1, 1.00)"
sql "select count(*) from orders"

step "6. Where was it? rewind db find reads the binlog on the 'binlog' member"
rewind db find db --sql 'TRUNCATE orders'
pos="$(rewind db find db --sql 'TRUNCATE orders' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["statements"][-1]["position"])')"

step "7. Before restoring, look: a sandbox at the bookmark, a private MariaDB started on it beside production"
rewind sandbox create db look --at bookmark:before-the-mistake
sandbox_port="$(rewind sandbox start db look --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')"
echo "orders in the sandbox (taken while orders were still coming in): $(MYSQL_PWD="$(cat "$work/db-password")" \
  mariadb -h 127.0.0.1 -P "$sandbox_port" -u rewind -N -e "select count(*) from orders" shop)"
echo "orders in production meanwhile: $(sql "select count(*) from orders" | tail -1)"
rewind sandbox stop db look
rewind sandbox drop db look

seq_before="$(rewind db find db --sql 'TRUNCATE orders' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["statements"][-1]["seqBefore"])')"

step "8. Or let Rewind find the last good write: bisect with a check, a MariaDB start per step"
rewind bisect db --good bookmark:before-the-mistake --check "select count(*) > 1 from orders" | tee "$work/bisect.txt"
last_good="$(sed -n 's/^last good write: seq \([0-9]*\).*/\1/p' "$work/bisect.txt")"
echo "bisect: last good write seq $last_good in $(grep -c '^step ' "$work/bisect.txt") steps;" \
  "db find: seq $seq_before before the TRUNCATE's binlog event"

step "9. One command: stop, restore to the write just before that binlog event, start, validate"
rewind restore db --before-binlog "$pos" --coordinated

step "10. Every order is back, and InnoDB agrees"
sql "select count(*), sum(amount) from orders"
sql "CHECK TABLE orders"
