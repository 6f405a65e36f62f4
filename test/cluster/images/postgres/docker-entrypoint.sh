#!/bin/sh
# As root: the stand-in's entry point. As any other user (the official image's non-root mode):
# initialise PGDATA on first start without chown or gosu, then run postgres as that user.
set -e
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
[ "$1" = postgres ] || exec "$@"
[ "$(id -u)" != 0 ] || exec /usr/local/bin/standin-entrypoint.sh "$@"
mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "$POSTGRES_PASSWORD" ] || { echo "postgres: POSTGRES_PASSWORD is not set" >&2; exit 1; }
  user=${POSTGRES_USER:-postgres} db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
  pwfile=$(mktemp) && echo "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.auto.conf"
  if [ "$db" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql -q -U "$user" -d postgres -c "CREATE DATABASE \"$db\""
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
fi
shift
exec postgres -D "$PGDATA" "$@"
