#!/bin/sh
# Start the backend the way docker compose does: apply the database migrations, then replace
# this shell with the server so uvicorn is PID 1 and receives SIGTERM directly.
# Kubernetes does not use this script: it runs `alembic upgrade head` once per release in a
# separate job and starts the image's CMD.
#   usage: ./docker-start.sh [COMMAND...]      (default: uvicorn src.main:app, as the image's CMD)
set -eu
alembic upgrade head
[ "$#" -gt 0 ] || set -- uvicorn src.main:app
exec "$@"
