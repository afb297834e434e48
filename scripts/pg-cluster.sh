#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests, run as an ordinary user on a
# free loopback port.
#
#   eval "$(scripts/pg-cluster.sh start DIR)"   # prints: export CAREWATCH_PG_URI=postgres://cw@127.0.0.1:PORT/postgres
#   scripts/pg-cluster.sh stop DIR
#
# Trust authentication on 127.0.0.1 only; fsync on (crash tests rely on it).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

# the server refuses to run as root: use the 'postgres' account Debian's
# package creates, or a dedicated one
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || { user=cwpg; id cwpg >/dev/null 2>&1 || useradd --system --no-create-home cwpg; }
  run_as=(runuser -u "$user" --)
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  [ ${#run_as[@]} -eq 0 ] || chown "$user" "$dir"
  chmod 700 "$dir"
  port=""
  for p in $(shuf -i 20000-45000 -n 100); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "no free port" >&2; exit 1; }
  "${run_as[@]}" "$PGBIN/initdb" -D "$dir/data" -U cw --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300 -c shared_buffers=128MB"
  echo "$opts" > "$dir/opts"   # to restart it the same way (fault tests)
  "${run_as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  echo "export CAREWATCH_PG_URI=postgres://cw@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -d "$dir/data" ] && "${run_as[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
