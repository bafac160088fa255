"""The attachment settings: the store (directory for `make run`, the database in the production
profile), limits, the link secret and lifetime, the public address; refused values name the variable."""

from __future__ import annotations

import pytest

from bot.attachments import AttachmentService, DatabaseStore, DirectoryStore
from bot.settings import Settings

PRODUCTION = {"LOG_FORMAT": "json", "LOG_ID_KEY": "k" * 32, "PRIVACY_DETAILS_URL": "https://example.com/chat/privacy"}


def test_defaults_and_the_production_profile(db, tmp_path):
    plain = Settings.from_env({})
    assert (plain.attachment_store, plain.attachment_dir, plain.attachments_per_ticket, plain.attachments_per_day,
            plain.attachment_url_seconds, plain.public_url) == ("directory", "data/attachments", 20, 30, 3600,
                                                                 "http://localhost:5005")
    assert Settings.from_env(PRODUCTION).attachment_store == "database"
    assert Settings.from_env({**PRODUCTION, "ATTACHMENT_STORE": "directory"}).attachment_store == "directory"
    built = AttachmentService.from_settings(db, Settings.from_env({
        "ATTACHMENT_STORE": "directory", "ATTACHMENT_DIR": str(tmp_path / "a"), "BACKEND_API_KEY": "b" * 20,
        "PUBLIC_BASE_URL": "https://example.com/", "ATTACHMENT_URL_SECONDS": "120", "ATTACHMENTS_PER_TICKET": "3",
    }))
    assert isinstance(built.store, DirectoryStore) and built.store.directory == tmp_path / "a"
    assert built.signer.base_url == "https://example.com" and built.signer.lifetime == 120 and built.per_ticket == 3
    assert isinstance(AttachmentService.from_settings(db, Settings.from_env({
        "ATTACHMENT_STORE": "database", "BACKEND_SECRET": "s" * 20})).store, DatabaseStore)


@pytest.mark.parametrize("env, named", [
    ({"ATTACHMENT_STORE": "s3"}, "ATTACHMENT_STORE"),
    ({"ATTACHMENT_URL_SECRET": "short"}, "ATTACHMENT_URL_SECRET"),
    ({"ATTACHMENT_URL_SECONDS": "10"}, "ATTACHMENT_URL_SECONDS"),
    ({"ATTACHMENTS_PER_DAY": "0"}, "ATTACHMENTS_PER_DAY"),
    ({"PUBLIC_BASE_URL": "ftp://bot.example.com"}, "PUBLIC_BASE_URL"),
])
def test_wrong_values_are_refused_by_name(env, named):
    with pytest.raises(ValueError, match=named):
        Settings.from_env(env)
