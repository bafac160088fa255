import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import MaskPersonalData, check_id_key
from channels.hub import Hub  # imported here, in the text profile: importing channels under json configures logging

ROOT = Path(__file__).resolve().parent.parent


def test_phone_numbers_are_masked_in_log_records(caplog):
    logger = logging.getLogger("test.masking")
    caplog.handler.addFilter(MaskPersonalData())
    with caplog.at_level(logging.INFO):
        logger.info("customer %s left number %s", "alice", "13812345678")
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text


def test_registered_secrets_are_redacted_even_in_tracebacks(caplog):
    from bot.logs import redact

    token = "123456789:AAExampleSecretTokenValue"
    redact(token)
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(MaskPersonalData())
    with caplog.at_level(logging.INFO):
        logger.info("calling http://127.0.0.1:8081/bot%s/sendMessage", token)
        try:
            raise RuntimeError(f"POST /bot{token}/getMe failed")
        except RuntimeError:
            logger.exception("request failed")
    assert token not in caplog.text and "bot***/sendMessage" in caplog.text


def test_the_production_profile_refuses_the_built_in_pseudonym_key(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.delenv("LOG_ID_KEY", raising=False)
    with pytest.raises(ValueError, match="LOG_ID_KEY"):
        check_id_key()
    for weak in ("", "intake-logs", "short-key"):
        monkeypatch.setenv("LOG_ID_KEY", weak)
        with pytest.raises(ValueError, match="LOG_ID_KEY"):
            check_id_key()
    monkeypatch.setenv("LOG_ID_KEY", "0f" * 16)
    check_id_key()
    monkeypatch.setenv("LOG_FORMAT", "text")  # the embedded profile: its logs stay on the machine
    monkeypatch.delenv("LOG_ID_KEY")
    check_id_key()


def test_neither_server_starts_in_production_with_the_built_in_pseudonym_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("PRIVACY_DETAILS_URL", "https://example.com/chat/privacy")
    monkeypatch.delenv("LOG_ID_KEY", raising=False)
    with pytest.raises(ValueError, match="LOG_ID_KEY"):
        Hub.from_env()  # the Rasa process builds its hub while loading the channels
    env = {k: v for k, v in os.environ.items() if k != "LOG_ID_KEY"}
    env.update(PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore", SANIC_HOST="127.0.0.1")
    try:
        done = subprocess.run([sys.executable, "-m", "actions.server", "--actions", "actions", "--port", "0"], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the action server started with the built-in key")
    assert done.returncode != 0 and "action server not started: LOG_ID_KEY must be set" in done.stderr


def test_web_chat_ids_never_reach_a_log_line_raw(caplog):
    """A web chat id is a credential (review M8): any log line quoting one shows its pseudonym."""
    import uuid

    from bot.logs import conversation_ref

    session_id = uuid.uuid4().hex
    caplog.handler.addFilter(MaskPersonalData())
    with caplog.at_level(logging.INFO):
        logging.getLogger("rasa.core.processor").warning("Received user message from %s", session_id)
        logging.getLogger("actions.privacy").warning("privacy request of %s failed", session_id)
        logging.getLogger("test.ids").warning("not an id: %s", "f" * 40)
    assert session_id not in caplog.text
    assert caplog.text.count(conversation_ref(session_id)) == 2
    assert "f" * 40 in caplog.text  # longer hex runs (hashes, tokens) are not ids
