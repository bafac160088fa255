#!/usr/bin/env bash
# Starts the action server and the Rasa server (with the web chat) on localhost; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

PY=.venv/bin/python
model=$($PY scripts/train.py)  # trains only if config or data changed
mkdir -p data
pids=()

stop() {
  trap - INT TERM EXIT
  echo; echo "stopping ..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

wait_for() { # url, name, pid
  for _ in $(seq 1 240); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    kill -0 "$3" 2>/dev/null || { echo "$2 exited; see the log above" >&2; return 1; }
    sleep 0.5
  done
  echo "$2 did not become ready" >&2; return 1
}

$PY -c 'from bot.storage.database import Database; Database.from_env().migrate()'
# A first supervisor account for the agent console when there is none (password file is mode 600).
admin_note=$($PY -m bot.cli bootstrap --credentials-file data/console-admin.txt)

$PY -m actions.server --actions actions --port "$ACTION_PORT" &
pids+=($!)
$PY -m channels.server run --model "$model" --endpoints endpoints.yml --credentials credentials.yml \
  --interface "${RASA_INTERFACE:-127.0.0.1}" --port "$RASA_PORT" &
pids+=($!)

wait_for "http://127.0.0.1:$ACTION_PORT/health" "action server" "${pids[0]}"
wait_for "http://127.0.0.1:$RASA_PORT/" "rasa server" "${pids[1]}"

if [ -n "$TELEGRAM_BOT_TOKEN" ]; then
  if [ "$TELEGRAM_MODE" = polling ]; then telegram="long polling (getUpdates)"
  else telegram="webhook http://localhost:$RASA_PORT/webhooks/telegram/webhook${TELEGRAM_WEBHOOK_URL:+ (registered as $TELEGRAM_WEBHOOK_URL)}"; fi
else
  telegram="off (set TELEGRAM_BOT_TOKEN, see README)"
fi

cat <<MSG

  The assistant is running:
    Web chat        http://localhost:$RASA_PORT/chat/
    Agent console   http://localhost:$RASA_PORT/agent/   (API: /agent/api, OpenAPI: /agent/api/openapi.json)
    Telegram        $telegram
    REST channel    http://localhost:$RASA_PORT/webhooks/rest/webhook
    Action server   http://localhost:$ACTION_PORT/health   (/readyz, /metrics)
    Operations      http://localhost:$RASA_PORT/healthz   /readyz   /metrics (Prometheus)
  Tickets: $DATABASE_URL   Conversations: $TRACKER_STORE_URL
  Console accounts: ${admin_note:-see README}; add agents with: make agent USERNAME=wang NAME=小王
  Press Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
