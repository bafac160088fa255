import logging

from bot.logs import MaskPersonalData


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
