#!/usr/bin/env bash
# TLS benchmark (not a test): fio 4 KiB random read and write, queue depth 16, through
# `fio --ioengine=nbd` against one `rewind serve --listen ... --tls on` (so the same daemon
# serves the Unix socket, plain TCP and TLS) and against nbdkit's memory plugin, plain and with
# --tls=require, in the same run. Prints MiB/s per job and the ratios
# (Unix socket / TCP loopback, TLS / plain TCP for each server).
#
#   bench/tls.sh [SIZE_MIB] [RUNTIME_S] [ROUNDS]   (defaults: 256 MiB, 10 s per job, 3 rounds)
#
# Each round runs every job once, the five targets in a rotated order; the median of the
# rounds is reported. Every Rewind randwrite job gets a set of its own, made just before it
# (through the running daemon) and deleted after it, so each starts from an empty journal.
#
# Certificates are made with openssl in a temporary directory. Needs: a JDK 17+, fio, nbdkit
# (built with GnuTLS), libnbd with TLS (fio's nbd engine), openssl, python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_mib="${1:-256}"
runtime="${2:-10}"
rounds="${3:-3}"
for tool in fio nbdkit java openssl python3; do
  command -v "$tool" >/dev/null || { echo "bench/tls.sh: $tool is not installed (apt-get install fio nbdkit openssl)" >&2; exit 2; }
done
jar="$here/cli/target/rewind.jar"
if [ ! -f "$jar" ]; then (cd "$here" && ./mvnw -q -B -Dmaven.test.skip=true -pl cli -am package); fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rewind-tls-bench.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
ssl() { openssl "$@" >/dev/null 2>&1; }

# --- certificates: a CA, a server certificate for 127.0.0.1, a client directory trusting the CA
c="$work/certs"; mkdir -p "$c/server" "$c/client"
ssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=bench CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$c/ca-key.pem" -out "$c/ca-cert.pem"
ssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$c/server/server-key.pem"
ssl req -new -key "$c/server/server-key.pem" -subj "/CN=127.0.0.1" -out "$c/server.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$c/server.ext"
ssl x509 -req -in "$c/server.csr" -CA "$c/ca-cert.pem" -CAkey "$c/ca-key.pem" -CAcreateserial -days 30 \
  -extfile "$c/server.ext" -out "$c/server/server-cert.pem"
cp "$c/ca-cert.pem" "$c/server/"; cp "$c/ca-cert.pem" "$c/client/"
# fio's libnbd refuses tls-certificates= in a URI (local file access); it reads $HOME/.pki/libnbd instead
mkdir -p "$work/home/.pki"; ln -s "$c/client" "$work/home/.pki/libnbd"

# --- rewind serve: one set, one PV member, Unix socket + TCP with TLS offered
data="$work/rewind-data"
rewind_cli() { java -jar "$jar" --data "$data" "$@" >/dev/null; }
rewind_cli init
rewind_cli pv create pv --path "$work/pv.img" --size "$((size_mib + 8))M"
rewind_cli set create bench --member pv:pv
rport=$(free_port)
# --insecure: fio writes over TCP without a client certificate (as nbdkit lets it)
java ${REWIND_JAVA_OPTS:-} -jar "$jar" --data "$data" serve --listen "127.0.0.1:$rport" --insecure --tls on \
  --tls-certificates "$c/server" >>"$work/serve.log" 2>&1 &
pids+=($!); wait_port "$rport"

# --- nbdkit memory, plain and TLS-only
kplain=$(free_port); ktls=$(free_port)
nbdkit -f -i 127.0.0.1 -p "$kplain" --tls=off memory "${size_mib}M" & pids+=($!)
nbdkit -f -i 127.0.0.1 -p "$ktls" --tls=require --tls-certificates "$c/server" memory "${size_mib}M" & pids+=($!)
wait_port "$kplain"; wait_port "$ktls"

run_fio() { # uri rw -> MiB/s
  HOME="$work/home" fio --name=job --ioengine=nbd --uri="$1" --rw="$2" --bs=4k --iodepth=16 --size="${size_mib}M" \
    --time_based --runtime="$runtime" --output-format=json 2>"$work/fio.err" |
    python3 -c 'import json,sys; t=sys.stdin.read(); j=json.loads(t[t.index("{"):])["jobs"][0]; print("%.1f" % ((j["read"]["bw"]+j["write"]["bw"])/1024))'
}
declare -A uri=(
  [rewind-unix]="nbd+unix:///bench/pv?socket=$data/nbd.sock"
  [rewind-tcp]="nbd://127.0.0.1:$rport/bench/pv"
  [rewind-tls]="nbds://127.0.0.1:$rport/bench/pv"
  [nbdkit-tcp]="nbd://127.0.0.1:$kplain/"
  [nbdkit-tls]="nbds://127.0.0.1:$ktls/"
)
declare -A mib
targets=(rewind-unix rewind-tcp rewind-tls nbdkit-tcp nbdkit-tls)
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
# the randread jobs read written blocks: fill the set the reads use, and nbdkit's disks, first
for u in "${uri[rewind-unix]}" "${uri[nbdkit-tcp]}" "${uri[nbdkit-tls]}"; do
  HOME="$work/home" fio --name=fill --ioengine=nbd --uri="$u" --rw=write --bs=1M --iodepth=4 --size="${size_mib}M" \
    --output-format=terse >/dev/null 2>"$work/fio.err" || { echo "filling $u failed:" >&2; cat "$work/fio.err" >&2; exit 1; }
done
for rw in randwrite randread; do
  declare -A runs=()
  for r in $(seq 0 $((rounds - 1))); do
    for i in $(seq 0 4); do
      t=${targets[$(( (i + r) % 5 ))]}
      u=${uri[$t]}
      fresh=""
      if [ "$rw" = randwrite ] && [[ $t == rewind-* ]]; then
        fresh="w$r$i"
        rewind_cli pv create "$fresh" --path "$work/$fresh.img" --size "$((size_mib + 8))M"
        rewind_cli set create "$fresh" --member "pv:$fresh"
        u=${u/bench\/pv/$fresh\/$fresh}
      fi
      v=$(run_fio "$u" "$rw") || { echo "fio on $t failed:" >&2; cat "$work/fio.err" >&2; exit 1; }
      if [ -n "$fresh" ]; then
        rewind_cli set delete "$fresh" --confirm "$fresh" --delete-secondary
        rm -f "$work/$fresh.img"
      fi
      runs[$t]="${runs[$t]:-} $v"
    done
  done
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    mib[$t.$rw]=$(median ${runs[$t]})
    printf '%-10s %-12s %8s MiB/s  (runs:%s)\n' "$rw" "$t" "${mib[$t.$rw]}" "${runs[$t]}"
  done
  unset runs
done
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
for rw in randwrite randread; do
  echo "$rw: rewind unix/tcp $(ratio "${mib[rewind-unix.$rw]}" "${mib[rewind-tcp.$rw]}")," \
    "rewind tls/tcp $(ratio "${mib[rewind-tls.$rw]}" "${mib[rewind-tcp.$rw]}")," \
    "nbdkit tls/tcp $(ratio "${mib[nbdkit-tls.$rw]}" "${mib[nbdkit-tcp.$rw]}")," \
    "rewind tls / nbdkit tls $(ratio "${mib[rewind-tls.$rw]}" "${mib[nbdkit-tls.$rw]}")"
done
