# Defaults for the embedded profile; every value can be overridden from the environment.
# Sourced by the Makefile's recipes and by scripts/run.sh.
# Local secrets (e.g. the Telegram bot token) may live in ./.env, which git ignores.
if [ -f .env ]; then set -a; . ./.env; set +a; fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$(pwd)"
export DATABASE_URL="${DATABASE_URL:-sqlite:///data/tickets.db}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///data/tracker.db}"
# Production profile (make run-prod): Rasa's lock store and the processes' wake-up bus on Redis.
export LOCK_STORE_TYPE="${LOCK_STORE_TYPE:-in_memory}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_DB="${REDIS_DB:-1}"
export REDIS_PASSWORD="${REDIS_PASSWORD:-}"
export REDIS_URL="${REDIS_URL:-}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://localhost:${ACTION_PORT}/webhook}"
export RASA_TELEMETRY_ENABLED=false
# The action server trusts whatever tracker it is sent: it listens on loopback only.
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
# Largest request body (bytes) the Rasa server reads: a larger one is answered 413 from its
# Content-Length, before it is buffered (Sanic's default is 100 MB). The action server has its own,
# larger limit (ACTION_REQUEST_MAX_SIZE, actions/server.py): it gets the whole conversation per call.
export SANIC_REQUEST_MAX_SIZE="${SANIC_REQUEST_MAX_SIZE:-1000000}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
# Logs (bot/logs.py): readable lines for people at a terminal; json (one object per line) in production.
# json marks the production profile: it needs LOG_ID_KEY (the log pseudonyms' key, 16+ characters, a
# secret: set it in .env or the deployment, never here) and PRIVACY_DETAILS_URL.
export LOG_FORMAT="${LOG_FORMAT:-text}"
export LOG_LEVEL="${LOG_LEVEL:-INFO}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
export HANDOFF_WORKING_HOURS="${HANDOFF_WORKING_HOURS:-}"
# Telegram stays off until a bot token is given (README "Telegram").
export TELEGRAM_BOT_TOKEN="${TELEGRAM_BOT_TOKEN:-}"
export TELEGRAM_WEBHOOK_URL="${TELEGRAM_WEBHOOK_URL:-}"
export TELEGRAM_WEBHOOK_SECRET="${TELEGRAM_WEBHOOK_SECRET:-}"
export TELEGRAM_API_BASE="${TELEGRAM_API_BASE:-https://api.telegram.org}"
export TELEGRAM_MODE="${TELEGRAM_MODE:-webhook}"
# WeChat stays off until an AppID is given (README "WeChat").
export WECHAT_APP_ID="${WECHAT_APP_ID:-}"
export WECHAT_APP_SECRET="${WECHAT_APP_SECRET:-}"
export WECHAT_TOKEN="${WECHAT_TOKEN:-}"
export WECHAT_AES_KEY="${WECHAT_AES_KEY:-}"
export WECHAT_API_BASE="${WECHAT_API_BASE:-https://api.weixin.qq.com}"
export WECHAT_TEMPLATE_RESULT="${WECHAT_TEMPLATE_RESULT:-}"
# The backend ticketing system: push (BACKEND_URL + BACKEND_SECRET) and/or pull (BACKEND_API_KEY).
export BACKEND_URL="${BACKEND_URL:-}"
export BACKEND_SECRET="${BACKEND_SECRET:-}"
export BACKEND_API_KEY="${BACKEND_API_KEY:-}"
# Personal data (个人信息保护法): how long transcripts are kept, where the first-contact notice links to
# (empty: the page next to the web chat on localhost, which is why LOG_FORMAT=json requires a value).
export TRANSCRIPT_RETENTION_DAYS="${TRANSCRIPT_RETENTION_DAYS:-180}"
export PRIVACY_DETAILS_URL="${PRIVACY_DETAILS_URL:-}"
