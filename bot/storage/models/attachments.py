"""Tables of evidence attachments: what each stored file is (and whose, on which ticket), and the
bytes themselves when the database is the attachment store (production: every process and pod sees
every file). The directory store keeps the bytes in files instead and leaves `attachment_blobs` empty.
`attachment_link_uses` remembers the signed download links already followed: each works once."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage.models.base import Base, UTCDateTime


class AttachmentRow(Base):
    """One accepted file (after re-encoding). `ticket_number` is null while it is held for the
    customer's next complaint; the bytes live in the attachment store under `id` (and ``<id>.thumb``)."""

    __tablename__ = "attachments"

    id = sa.Column(sa.String(32), primary_key=True)
    channel = sa.Column(sa.String(32), nullable=False)
    channel_user_id = sa.Column(sa.String(255), nullable=False)
    ticket_number = sa.Column(sa.String(32))
    kind = sa.Column(sa.String(8), nullable=False)
    mime = sa.Column(sa.String(32), nullable=False)
    size = sa.Column(sa.Integer, nullable=False)
    sha256 = sa.Column(sa.String(64), nullable=False)
    width = sa.Column(sa.Integer)
    height = sa.Column(sa.Integer)
    source = sa.Column(sa.String(16), nullable=False)
    caption = sa.Column(sa.Text, nullable=False, default="")
    created_at = sa.Column(UTCDateTime, nullable=False)

    __table_args__ = (
        sa.Index("ix_attachments_customer", "channel", "channel_user_id", "created_at"),
        sa.Index("ix_attachments_ticket", "ticket_number"),
        sa.Index("ix_attachments_created", "created_at"),
    )


class AttachmentBlobRow(Base):
    """The bytes of one stored file, keyed like the directory store's file names."""

    __tablename__ = "attachment_blobs"

    key = sa.Column(sa.String(64), primary_key=True)
    data = sa.Column(sa.LargeBinary, nullable=False)


class AttachmentLinkUseRow(Base):
    """A signed download link that was followed (its signature is the key): a second use is refused.
    Kept until the link would have expired anyway; retention removes it then."""

    __tablename__ = "attachment_link_uses"

    signature = sa.Column(sa.String(64), primary_key=True)
    attachment_id = sa.Column(sa.String(32), nullable=False)
    used_at = sa.Column(UTCDateTime, nullable=False)
    expires_at = sa.Column(UTCDateTime, nullable=False)

    __table_args__ = (sa.Index("ix_attachment_link_uses_expires", "expires_at"),)
