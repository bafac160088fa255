"""The hostile-file corpus (tests/hostile_files.py): 0 crashes, 0 stored files; and arbitrary bytes
never crash `accept` (Hypothesis)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.attachments import AttachmentRejected, AttachmentService, DatabaseStore, DirectoryStore
from bot.categories import Category
from bot.storage.models import AttachmentBlobRow, AttachmentRow
from bot.tickets import Customer, TicketService
from tests.hostile_files import corpus

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _counts(service: AttachmentService) -> tuple:
    with service.db.transaction() as session:
        rows = session.execute(sa.select(sa.func.count()).select_from(AttachmentRow)).scalar_one()
        blobs = session.execute(sa.select(sa.func.count()).select_from(AttachmentBlobRow)).scalar_one()
    return rows, blobs, len(list(service.store.keys()))


@pytest.mark.parametrize("store_kind", ["directory", "database"])
def test_every_hostile_file_is_refused_in_chinese_and_nothing_is_stored(db, tmp_path, store_kind):
    store = DirectoryStore(tmp_path / "files") if store_kind == "directory" else DatabaseStore(db)
    service = AttachmentService(db, store)
    customer = Customer("webchat", "hostile-files")
    TicketService(db).open_complaint(customer, Category.BILLING, "账单有问题", "13800138000")
    cases = corpus()
    outcomes = {}
    for name, data, _expected in cases:
        try:
            service.accept(customer, data, source="webchat", filename="bill.jpg")
        except AttachmentRejected as refused:
            outcomes[name] = refused.reason
            assert CHINESE.search(refused.text) and "。" in refused.text, name
        # anything else propagates: a crash fails the test
        else:
            outcomes[name] = "ACCEPTED"
    wrong = {name: (outcomes[name], expected) for name, _, expected in cases if outcomes[name] != expected}
    print(f"hostile-file corpus: {len(cases)} cases, {len(cases) - len(wrong)} refused as expected")
    assert wrong == {}
    assert len(cases) >= 25
    assert _counts(service) == (0, 0, 0)
    assert (tmp_path / "files").exists() is False or list((tmp_path / "files").iterdir()) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.binary(max_size=2048),
    st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x01\x00\x00WEBP", b"%PDF-1.4\n"]).flatmap(
        lambda head: st.binary(max_size=2048).map(lambda tail: head + tail)
    ),
))
def test_arbitrary_bytes_never_crash_accept(db, data):
    service = AttachmentService(db, DatabaseStore(db))
    try:
        service.accept(Customer("webchat", "fuzz"), data, source="webchat")
    except AttachmentRejected as refused:
        assert CHINESE.search(refused.text)
