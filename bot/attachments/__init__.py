"""Evidence attachments (证据): screenshots, photos and PDFs customers send with a complaint.

    model.py     Attachment, AttachmentRejected (reason code + the customer's Chinese text), Accepted
    sniff.py     the type by magic bytes; truncated files, polyglots and active PDFs refused
    images.py    Pillow: bombs refused, images re-encoded upright without EXIF/XMP/ICC, thumbnails
    store.py     the bytes: a directory (``make run``) or the database (production, Kubernetes)
    signing.py   signed, expiring download URLs for the backend
    service.py   AttachmentService: accept, read, list, link for the backend, delete bytes

The domain: no Rasa, Sanic or HTTP here; channels fetch the bytes and call `AttachmentService.accept`.
"""

from bot.attachments.model import EXTENSIONS, IMAGE, PDF, REJECTION_TEXTS, SOURCES, Accepted, Attachment, AttachmentRejected
from bot.attachments.service import DEFAULT_PER_DAY, DEFAULT_PER_TICKET, AttachmentService
from bot.attachments.signing import DEFAULT_LIFETIME_SECONDS, UrlSigner, url_secret
from bot.attachments.store import AttachmentStore, DatabaseStore, DirectoryStore, StoredFiles, keys_of

__all__ = [
    "DEFAULT_LIFETIME_SECONDS", "DEFAULT_PER_DAY", "EXTENSIONS", "DEFAULT_PER_TICKET", "IMAGE", "PDF", "REJECTION_TEXTS", "SOURCES",
    "Accepted", "Attachment", "AttachmentRejected", "AttachmentService", "AttachmentStore", "DatabaseStore",
    "DirectoryStore", "StoredFiles", "UrlSigner", "keys_of", "url_secret",
]
