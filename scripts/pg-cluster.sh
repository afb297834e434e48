#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests: its own directory, an ordinary
# (non-root) user, 127.0.0.1 only, a free port, fsync on, trust authentication
# on loopback. It never touches a system cluster (Debian's apt may run one on
# 5432): own data directory, own port, own socket directory.
#
#   eval "$(scripts/pg-cluster.sh start [DIR])"
#       starts a cluster in DIR (default: a new /tmp/cw-pg.XXXXXX) with a
#       database "carewatch"; prints
#         export CAREWATCH_PG_URI=postgres://cw@127.0.0.1:PORT/carewatch
#         export CAREWATCH_PG_DIR=DIR
#   uri=$(scripts/pg-cluster.sh newdb NAME)
#       creates a fresh database NAME ([a-z_][a-z0-9_]*, must not exist) on the
#       cluster of $CAREWATCH_PG_URI and prints its URI
#   scripts/pg-cluster.sh ctl DIR stop|start
#       stops or restarts the server and keeps its data (fault tests)
#   scripts/pg-cluster.sh stop DIR
#       stops the cluster and removes DIR (only a directory this script made)
#
# As root (CI), the server runs as the 'postgres' account Debian's package
# creates, or else as 'cwpg' (created with useradd); CWPG_USER overrides.
# stop and ctl act as the user recorded at start. CWPG_PORTS=LO-HI narrows the
# port range (default 20000-60999).
# DIR must be empty or new, reachable by that user, without whitespace.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
MARK=.carewatch-pg-cluster
SUPERUSER=cw
DBNAME=carewatch

die() { echo "pg-cluster: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# run_as: the command prefix that runs a server binary as a non-root user.
run_as=()
pick_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	local user=${CWPG_USER:-} dir=${1:-}
	# a running cluster is managed by the user that started it
	if [ -n "$dir" ] && [ -s "$dir/user" ]; then user=$(cat "$dir/user"); fi
	if [ -z "$user" ]; then
		if id postgres >/dev/null 2>&1; then user=postgres; else user=cwpg; fi
	fi
	if ! id "$user" >/dev/null 2>&1; then
		[ "$user" = cwpg ] || die "user $user does not exist"
		useradd --system --no-create-home --shell /usr/sbin/nologin cwpg
	fi
	run_as=(runuser -u "$user" --)
	RUN_USER=$user
}

# port_taken PORT: true when something already accepts connections there.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# server_start DIR: starts the server with the options saved in DIR/opts.
server_start() {
	(cd "$1" && "${run_as[@]}" "$PGBIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 30 -o "$(cat "$1/opts")" start) >/dev/null 2>&1
}

server_stop() {
	(cd "$1" && "${run_as[@]}" "$PGBIN/pg_ctl" -D "$1/data" -m fast -w -t 60 stop) >/dev/null 2>&1
}

cmd_start() {
	local dir=${1:-}
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/cw-pg.XXXXXX)
	fi
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# stop removes DIR: only ever use an empty (or new) directory
	[ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
	case "$dir" in *[[:space:]]*) die "DIR must not contain whitespace: $dir" ;; esac
	touch "$dir/$MARK"
	chmod 700 "$dir"
	if [ ${#run_as[@]} -gt 0 ]; then
		chown "$RUN_USER" "$dir"
		echo "$RUN_USER" >"$dir/user"
		"${run_as[@]}" test -w "$dir" -a -x "$dir" || die "user $RUN_USER cannot reach $dir (a parent directory is closed to it)"
	fi
	(cd "$dir" && "${run_as[@]}" "$PGBIN/initdb" -D "$dir/data" -U "$SUPERUSER" --auth=trust -E UTF8 \
		--locale=C.UTF-8 >"$dir/initdb.log" 2>&1) || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

	# Pick a port by trying: skip ports in use, and try another when the
	# server cannot bind (a race with another process).
	local port="" p
	for _ in $(seq 1 30); do
		p=$(shuf -i "${CWPG_PORTS:-20000-60999}" -n 1)
		port_taken "$p" && continue
		echo "-p $p -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300" >"$dir/opts"
		: >"$dir/server.log"
		[ ${#run_as[@]} -eq 0 ] || chown "$RUN_USER" "$dir/server.log"
		if server_start "$dir"; then port=$p; break; fi
		grep -qiE 'could not bind|could not create any TCP/IP sockets|address already in use|lock file .* already exists' \
			"$dir/server.log" || { cat "$dir/server.log" >&2; die "server did not start (log above; clean up with: $0 stop $dir)"; }
	done
	[ -n "$port" ] || die "no free port found (clean up with: $0 stop $dir)"
	echo "$port" >"$dir/port"
	"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" "$DBNAME" || die "createdb failed"
	echo "export CAREWATCH_PG_URI=postgres://$SUPERUSER@127.0.0.1:$port/$DBNAME"
	echo "export CAREWATCH_PG_DIR=$dir"
}

cmd_newdb() {
	local name=${1:-}
	[[ $name =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name must match [a-z_][a-z0-9_]{0,62}"
	local uri=${CAREWATCH_PG_URI:-}
	[ -n "$uri" ] || die "CAREWATCH_PG_URI is not set (eval \"\$($0 start)\" first)"
	"$PGBIN/psql" "$uri" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" >/dev/null || die "cannot create database $name"
	# postgres://user@host:port/db?opts → same with /NAME
	local query="" base=$uri
	case "$uri" in *\?*) query="?${uri#*\?}"; base=${uri%%\?*} ;; esac
	local auth=${base#*://}
	echo "${base%%://*}://${auth%%/*}/$name$query"
}

cmd_stop() {
	local dir=${1:-}
	[ -n "$dir" ] || usage
	[ -d "$dir" ] || return 0
	[ -e "$dir/$MARK" ] || die "$dir was not made by this script: not removing it"
	[ ! -d "$dir/data" ] || server_stop "$dir" || true
	rm -rf "$dir"
}

cmd_ctl() {
	local dir=${1:-} action=${2:-}
	if [ ! -e "$dir/$MARK" ] || [ ! -d "$dir/data" ]; then die "$dir holds no cluster of this script"; fi
	case "$action" in
	start) server_start "$dir" || { tail -20 "$dir/server.log" >&2; die "server did not start"; } ;;
	stop) server_stop "$dir" || die "server did not stop" ;;
	*) usage ;;
	esac
}

[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 not found in $PGBIN (apt-get install postgresql-15)"
cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
start) pick_user; cmd_start "$@" ;;
stop) pick_user "${1:-}"; cmd_stop "$@" ;;
ctl) pick_user "${1:-}"; cmd_ctl "$@" ;;
newdb) cmd_newdb "$@" ;;
*) usage ;;
esac
