"""The web chat upload route's own reading of a request: the file name it passes on, and the body
read as a stream that stops at the limit (the route itself: tests/e2e/test_evidence_api.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from urllib.parse import quote

from channels.webchat_upload import MAX_NAME, _filename, _read_body


class _Stream:
    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.read_count = 0

    async def read(self):
        self.read_count += 1
        return self.chunks.pop(0) if self.chunks else None


def _request(headers=None, chunks=()):
    return SimpleNamespace(headers=headers or {}, stream=_Stream(chunks))


def test_file_names_are_plain_names():
    assert _filename(_request({"x-file-name": quote("账单 截图.jpg")})) == "账单 截图.jpg"
    assert _filename(_request({"x-file-name": quote("../../etc/passwd")})) == "passwd"
    assert _filename(_request({"x-file-name": quote("C:\\Users\\me\\bill.png")})) == "bill.png"
    assert _filename(_request({"x-file-name": quote("a\nb\x00c\u202e.jpg")})) == "abc.jpg"
    assert _filename(_request({"x-file-name": "%ff%fe"})) == ""  # not UTF-8
    assert _filename(_request({})) == ""
    assert len(_filename(_request({"x-file-name": quote("图" * 500)}))) == MAX_NAME


def test_the_body_is_read_up_to_the_limit_and_no_further():
    request = _request(chunks=[b"a" * 400, b"b" * 400])
    assert asyncio.run(_read_body(request, 1000)) == b"a" * 400 + b"b" * 400

    endless = _request(chunks=[b"x" * 300] * 100)
    assert asyncio.run(_read_body(endless, 1000)) is None
    assert endless.stream.read_count == 4  # stopped at the chunk that passed the limit

    announced = _request({"content-length": "1001"}, chunks=[b"x"])
    assert asyncio.run(_read_body(announced, 1000)) is None
    assert announced.stream.read_count == 0  # refused by its length, nothing read
