"""Logs: JSON lines that carry the request, conversation and channel ids (also from worker threads),
and personal data masked in whatever is logged. Figures and the servers: tests/test_observability.py."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
from datetime import datetime

import pytest

from bot import logs
from bot.text import mask_personal_data
from tests.observability_support import own_context_fixture  # noqa: F401


@pytest.fixture
def json_log():
    """Our logging configured as in production, writing to a buffer; the previous setup restored."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    handler = logs.configure("DEBUG", "json", stream=stream)
    yield stream
    for logger in [root] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]:
        if isinstance(logger, logging.Logger) and handler in logger.handlers:
            logger.removeHandler(handler)
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def lines(stream: io.StringIO) -> list:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_context_ids_also_from_worker_threads(json_log):
    logger = logging.getLogger("test.json")
    logger.info("outside any request")
    with logs.context(request_id="req-1", sender_id="alice", channel="rest"):
        logger.warning("inside %s", "the request")

        async def main():
            import contextvars

            context = contextvars.copy_context()
            await asyncio.get_running_loop().run_in_executor(None, context.run, logger.info, "in a worker thread")

        asyncio.run(main())
    outside, inside, worker = lines(json_log)
    assert set(outside) == {"ts", "level", "logger", "message", "pid"} and outside["message"] == "outside any request"
    assert inside["level"] == "WARNING" and inside["logger"] == "test.json" and inside["message"] == "inside the request"
    assert inside["request_id"] == worker["request_id"] == "req-1"
    assert inside["conversation_id"] == worker["conversation_id"] == logs.conversation_ref("alice")
    assert inside["channel"] == "rest"
    assert datetime.strptime(inside["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_new_request_forgets_the_ids_and_names_of_the_previous_one(json_log):
    logger = logging.getLogger("test.json")
    logs.start_request("one")
    logs.bind(sender_id="alice", channel="telegram")
    logs.personal("Alice")
    logger.info("Alice wrote")
    logs.start_request("two")
    logger.info("Alice again")
    first, second = lines(json_log)
    assert first["request_id"] == "one" and first["conversation_id"] and first["message"] == "***** wrote"
    assert second == {**second, "request_id": "two", "message": "Alice again"} and "conversation_id" not in second


def test_tracebacks_and_structured_records_are_masked(json_log):
    logger = logging.getLogger("rasa.core.processor")
    try:
        raise ValueError("INSERT failed for 13912345678")
    except ValueError:
        logger.exception("saving the ticket of 139 1234 5678 failed")
    # What Rasa's structlog writes: a JSON document with non-ASCII characters escaped.
    logger.debug(json.dumps({"event": "processor.message.parse", "parse_data_text": "我叫张三，电话13912345678",
                             "parse_data_entities": [{"value": 13912345678}], "level": "debug"}))
    error, parse = lines(json_log)
    assert "13912345678" not in json.dumps(error, ensure_ascii=False)
    assert "139****5678" in error["message"] and "ValueError: INSERT failed for 139****5678" in error["exc_info"]
    assert parse["message"] == "processor.message.parse"
    assert parse["fields"] == {"parse_data_text": "我叫**，电话139****5678", "parse_data_entities": [{"value": "139****5678"}]}


def test_every_logger_goes_through_the_masking_handler(json_log):
    # Loggers that do not propagate (Rasa and rasa_sdk turn it off for Sanic) or that brought their own
    # console handler get ours after configure().
    quiet = logging.getLogger("test.sanic.like")
    quiet.propagate = False
    noisy = logging.getLogger("test.own.handler")
    noisy.addHandler(logging.StreamHandler())
    logs.configure("DEBUG", "json", stream=json_log)
    quiet.error("sanic saw 13912345678")
    noisy.error("library saw 13912345678")
    assert [line["message"] for line in lines(json_log)] == ["sanic saw 139****5678", "library saw 139****5678"]
    noisy.handlers.clear()
    quiet.propagate = True


def test_text_format_keeps_the_ids(monkeypatch):
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    handler = logs.configure("INFO", "text", stream=stream)
    try:
        with logs.context(request_id="req-9", sender_id="bob"):
            logging.getLogger("test.text").info("联系人王小明 13912345678")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.captureWarnings(False)
        del handler
    line = stream.getvalue()
    assert "[req-9 " + logs.conversation_ref("bob") + "]" in line and "联系人*** 139****5678" in line


def test_client_request_ids_are_taken_only_when_they_are_short_tokens():
    assert logs.valid_request_id("3f2a-9c_1.x") == "3f2a-9c_1.x"
    assert logs.valid_request_id("13912345678 张三") is None and logs.valid_request_id("x" * 65) is None
    assert logs.valid_request_id(None) is None


# -- masking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, masked",
    [
        ("我叫张三，电话13912345678", "我叫**，电话139****5678"),
        ("你好我是李四", "你好我是**"),
        ("我是张三丰，想投诉", "我是***，想投诉"),
        ("姓名：王五 电话139-1234-5678", "姓名：** 电话139****5678"),
        ("联系人 赵六", "联系人 **"),
        ("客户姓名为欧阳娜娜", "客户姓名为****"),
        ("我姓周", "我姓*"),
        ("名字叫孙七", "名字叫**"),
        # Conservative: no introduction, or 我是 followed by more than a name, stays as it is.
        ("我是移动老用户了", "我是移动老用户了"),
        ("宽带断网三天了", "宽带断网三天了"),
        ("张三的宽带断了", "张三的宽带断了"),
    ],
)
def test_names_after_an_introduction_are_masked(text, masked):
    assert mask_personal_data(text) == masked


def test_names_of_a_telegram_update_are_masked_in_whatever_is_logged_for_it(json_log):
    logger = logging.getLogger("aiogram")
    results = []

    def update(first, last, username):
        with logs.context():
            logs.personal(first, last, username, f"{first} {last}", None, "")
            logger.info("update from %s %s (@%s)", first, last, username)
            results.append(threading.current_thread().name)
        logger.info("after the update: %s", first)

    update("Wei", "Zhang", "zhangwei88")
    during, after = lines(json_log)
    assert "Wei" not in during["message"] and "zhangwei88" not in during["message"] and "Zhang" not in during["message"]
    assert after["message"] == "after the update: Wei"  # only while that update is handled


def test_a_polled_update_leaves_no_ids_behind_for_the_next_one():
    logs.start_request("the loop's own")
    with logs.context():
        logs.bind(sender_id="alice", channel="telegram")
        logs.personal("Alice")
        assert logs.CONVERSATION_ID.get() == logs.conversation_ref("alice") and logs.scrub("Alice") == "*****"
    assert logs.CONVERSATION_ID.get() is None and logs.CHANNEL.get() is None
    assert logs.REQUEST_ID.get() == "the loop's own" and logs.scrub("Alice") == "Alice"
