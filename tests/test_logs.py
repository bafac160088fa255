import logging

from bot.logs import MaskPersonalData


def test_phone_numbers_are_masked_in_log_records(caplog):
    logger = logging.getLogger("test.masking")
    caplog.handler.addFilter(MaskPersonalData())
    with caplog.at_level(logging.INFO):
        logger.info("customer %s left number %s", "alice", "13812345678")
    assert "13812345678" not in caplog.text
    assert "138****5678" in caplog.text
