#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the SQL conformance corpus
# (test/conformance) and prints the connection URL for it:
#
#   export "$(.ci/postgres.sh)"    # CONCORD_PG_URL=postgres://...
#   npx vitest run test/conformance/postgres.test.ts
#
# Idempotent: installs Debian's `postgresql` if no server binary is found,
# creates the cluster if its data directory is missing, starts it if it is not
# running. The cluster listens on 127.0.0.1 only, on an unusual port, with
# trust authentication: it is for tests, never for data.
#
# The cluster is created with the C locale and UTC time zone so that text
# ordering, error messages and timestamp output are the same on every machine
# (the corpus expects them; see test/conformance/README.md).
#
# Environment (all optional):
#   CONCORD_PG_PORT   port to listen on             (default 54329)
#   CONCORD_PG_DATA   data directory                (default /tmp/concord-pgdata)
#   CONCORD_PG_USER   OS user that owns the cluster (default: postgres when run
#                     as root, since PostgreSQL refuses to run as root; else $USER)
# Everything except the final `CONCORD_PG_URL=...` line goes to stderr, so the
# output can also be appended to a CI environment file as it is.
set -euo pipefail

PORT="${CONCORD_PG_PORT:-54329}"
DATA="${CONCORD_PG_DATA:-/tmp/concord-pgdata}"
SOCKET_DIR="/tmp"
LOG="${DATA}.log"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir)"
    if [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  fi
  return 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
  log "PostgreSQL server not found; installing Debian's postgresql"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  BINDIR="$(find_bindir)"
fi
log "using $BINDIR"

if [ -n "${CONCORD_PG_USER:-}" ]; then
  PGUSER_OS="$CONCORD_PG_USER"
elif [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
else
  PGUSER_OS="$(id -un)"
fi

# Runs a command as the cluster owner.
as_owner() {
  if [ "$(id -un)" = "$PGUSER_OS" ]; then
    "$@"
  elif [ "$(id -u)" = 0 ]; then
    # runuser keeps the working directory; the owner may not be able to read it.
    (cd / && runuser -u "$PGUSER_OS" -- "$@")
  else
    (cd / && sudo -u "$PGUSER_OS" -- "$@")
  fi
}

if [ ! -f "$DATA/PG_VERSION" ]; then
  log "creating cluster in $DATA"
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then chown "$PGUSER_OS" "$DATA"; fi
  chmod 700 "$DATA"
  as_owner "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-instructions >&2
  {
    echo "# concord conformance settings (.ci/postgres.sh)"
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$SOCKET_DIR'"
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
    echo "datestyle = 'iso, mdy'"
    echo "lc_messages = 'C'"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "max_connections = 50"
  } | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
fi

if as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "already running"
else
  log "starting on 127.0.0.1:$PORT (log: $LOG)"
  if [ "$(id -u)" = 0 ]; then touch "$LOG"; chown "$PGUSER_OS" "$LOG"; fi
  as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -k $SOCKET_DIR -c listen_addresses=127.0.0.1" start >&2
fi

for _ in $(seq 1 60); do
  if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 0.5
done
"$BINDIR/pg_isready" -h 127.0.0.1 -p "$PORT" >&2

echo "CONCORD_PG_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
