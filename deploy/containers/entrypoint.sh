#!/usr/bin/env bash
# Entry point of the intake image (deploy/containers/Dockerfile): one image, three roles.
#
#   rasa      the Rasa server (channels, hub, outbox dispatcher) on 0.0.0.0:$RASA_PORT, model $RASA_MODEL
#   actions   the action server on $SANIC_HOST:$ACTION_PORT (set SANIC_HOST=0.0.0.0 in a pod)
#   migrate   bring the ticket store's schema to the newest revision and exit (idempotent)
#   <other>   run that command (e.g. `python -m bot.cli list-agents`)
#
# Configuration comes only from the environment (deploy/DEPLOYMENT.md). scripts/env.sh fills in the
# embedded defaults for anything not set, except the two store URLs: a container must be told where
# its database is, so a forgotten Secret fails the pod instead of writing to SQLite inside it.
set -euo pipefail
cd /app

role="${1:-rasa}"
case "$role" in
  rasa|actions|migrate)
    : "${DATABASE_URL:?DATABASE_URL is not set (postgresql://user:password@host:5432/tickets)}"
    if [ "$role" = rasa ]; then
      : "${TRACKER_STORE_URL:?TRACKER_STORE_URL is not set (postgresql://user:password@host:5432/rasa)}"
    fi
    case "$DATABASE_URL" in sqlite*) echo "entrypoint: warning: DATABASE_URL is SQLite; only for a single container" >&2 ;; esac
    ;;
esac

# shellcheck source=/dev/null
source scripts/env.sh

case "$role" in
  rasa)
    : "${RASA_MODEL:?RASA_MODEL is not set (path of models/intake-<hash>.tar.gz)}"
    [ -f "$RASA_MODEL" ] || { echo "entrypoint: model not found: $RASA_MODEL" >&2; exit 1; }
    # One Sanic worker per container: replicas are the unit of scale.
    export SANIC_WORKERS=1
    exec python -m channels.server run --model "$RASA_MODEL" --endpoints endpoints.yml --credentials credentials.yml \
      --interface 0.0.0.0 --port "$RASA_PORT"
    ;;
  actions)
    exec python -m actions.server --actions actions --port "$ACTION_PORT"
    ;;
  migrate)
    exec python -m bot.cli migrate
    ;;
  *)
    exec "$@"
    ;;
esac
