"""Where attachment bytes live: one small interface (put, get, delete by key) and two stores behind it.

* `DirectoryStore`: files in a directory (``data/attachments/`` for ``make run``), written to a
  temporary file and renamed into place (a reader never sees half a file), named by key only.
* `DatabaseStore`: a table of blobs (``attachment_blobs``, ``bytea`` on PostgreSQL) in the ticket
  database, so every process and pod sees every file (the production profile and Kubernetes).

``ATTACHMENT_STORE=directory|database`` chooses (bot/settings.py). Keys are made by the service from
the attachment's random id (``<id>`` and ``<id>.thumb``), never from a customer's file name; a key
of any other shape is refused, so no key can name a path outside the directory.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, Protocol, Set

import sqlalchemy as sa

from bot.errors import NotFound
from bot.settings import ACTION_SERVER, Settings
from bot.storage.database import Database
from bot.storage.models import AttachmentBlobRow

logger = logging.getLogger(__name__)

_KEY = re.compile(r"^[A-Za-z0-9_-]{8,48}(\.thumb)?$")


def checked_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise NotFound("no such attachment")
    return key


class AttachmentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...  # NotFound if absent

    def delete(self, key: str) -> None: ...  # absent is fine

    def keys(self) -> Iterable[str]: ...


class DirectoryStore:
    def __init__(self, directory: "str | Path") -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / checked_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("no such attachment") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterable[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir() if _KEY.match(p.name))

    def sweep(self, known: Callable[[Iterable[str]], Set[str]], older_than: float) -> int:
        """Remove files no attachment row names (a process that died between writing the bytes and
        committing the row, or before removing deleted ones) and half-written temporary files, if
        untouched for `older_than` seconds (an upload in flight is younger). `known` answers which of
        the given attachment ids still have rows."""
        if not self.directory.is_dir():
            return 0
        cutoff = time.time() - older_than
        old = [p for p in self.directory.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
        ids = {p.name.split(".", 1)[0] for p in old if _KEY.match(p.name)}
        alive = known(ids) if ids else set()
        removed = 0
        for path in old:
            if path.name.startswith(".incoming-") or (_KEY.match(path.name) and path.name.split(".", 1)[0] not in alive):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class DatabaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, key: str, data: bytes) -> None:
        key = checked_key(key)
        with self.db.transaction() as session:
            session.execute(sa.delete(AttachmentBlobRow).where(AttachmentBlobRow.key == key))
            session.add(AttachmentBlobRow(key=key, data=bytes(data)))

    def get(self, key: str) -> bytes:
        key = checked_key(key)
        with self.db.transaction() as session:
            data = session.execute(sa.select(AttachmentBlobRow.data).where(AttachmentBlobRow.key == key)).scalar_one_or_none()
        if data is None:
            raise NotFound("no such attachment")
        return bytes(data)

    def delete(self, key: str) -> None:
        key = checked_key(key)
        with self.db.transaction() as session:
            session.execute(sa.delete(AttachmentBlobRow).where(AttachmentBlobRow.key == key))

    def keys(self) -> Iterable[str]:
        with self.db.transaction() as session:
            return list(session.execute(sa.select(AttachmentBlobRow.key).order_by(AttachmentBlobRow.key)).scalars())


def keys_of(attachment_id: str) -> tuple:
    """The store keys of one attachment: its bytes and its thumbnail (images only have one)."""
    return (attachment_id, f"{attachment_id}.thumb")


class StoredFiles:
    """Removing the bytes of attachments whose rows are gone, for a process that has no attachment
    service (the CLI's privacy and purge commands): the store the environment configures."""

    def __init__(self, store: AttachmentStore) -> None:
        self.store = store

    @classmethod
    def from_env(cls, db: Database) -> Optional["StoredFiles"]:
        try:
            settings = Settings.from_env(server=ACTION_SERVER)
        except ValueError as error:
            logger.error("attachment files not removed (their rows are): %s", error)
            return None
        store = DatabaseStore(db) if settings.attachment_store == "database" else DirectoryStore(settings.attachment_dir)
        return cls(store)

    def delete_bytes(self, attachment_ids: Iterable[str]) -> int:
        count = 0
        for attachment_id in attachment_ids:
            for key in keys_of(attachment_id):
                try:
                    self.store.delete(key)
                except NotFound:
                    pass  # not a key this store could hold: nothing to remove
            count += 1
        return count
