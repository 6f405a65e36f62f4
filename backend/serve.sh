#!/bin/sh
# Migrate, then serve: apply the database migrations, then replace this shell with uvicorn
# serving the app, so uvicorn is PID 1 (SIGTERM reaches it directly) and the app never serves an
# older schema. docker compose, `cargo xtask dev` and the e2e suite start the backend with it;
# Kubernetes migrates once per release in its own job and starts the image's CMD instead.
#   usage: ./serve.sh [UVICORN OPTION...]        e.g. ./serve.sh --reload --port 8000
set -eu
alembic upgrade head
exec uvicorn src.main:app "$@"
