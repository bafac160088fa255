"""Customers' rights over their personal data (个人信息保护法) and the operator's duties.

* **Notice.** At first contact on each channel the customer is told what is collected and why, with a
  link to the details page (`Notices.first_contact`). One row per customer and channel records it.
* **Requests.** A customer may ask in chat to see (``access``) or delete (``delete``) their data. The
  request is verified with the contact phone on file (or, when none is on file, by the channel
  account that wrote every message we hold), recorded as ``pending``, and carried out by a supervisor
  in the console or by an administrator with ``python -m bot.cli privacy``:
  - access: the customer receives, through their channel, a summary of everything held about them;
  - delete: the customer's tickets keep their facts (category, severity, department, times, status,
    deadlines, rating) for the operator's figures, and lose their identity: the channel account is
    replaced by a random token, the phone, the description, customer-written history and the rating
    comment are removed; transcripts are blanked, evidence and failed deliveries are deleted, the
    conversation log of the bot (Rasa's tracker) is deleted, and every ticket gets an ``anonymised``
    event, which the outbox pushes to the backend ticketing system. Events still waiting in the
    outbox are rewritten so that no deleted data leaves later.
* **Retention.** Transcripts and the bot's conversation log older than TRANSCRIPT_RETENTION_DAYS
  (default 180) are deleted by `Retention.purge` (hourly in every Rasa process, or the CLI).
* **Access log.** Every read of a customer's data by staff is written to ``access_log``
  (`AccessLog.record`); supervisors read it in the console.

The package, one concept per module:

    notice.py       the first-contact notice and its details page
    access_log.py   who read whose data
    requests.py     access and deletion requests, from the customer's check to the supervisor's decision
    summary.py      what is held about a customer (the answer to an access request)
    anonymise.py    removing a customer's identity from the ticket store
    retention.py    deleting what is older than the retention period
    model.py        Kind, RequestStatus, PrivacyRequest, PhoneCheck

Callers import from `bot.privacy` as before; this module only re-exports.
"""

from bot.errors import CustomerInChat  # the error lives in bot.errors; callers also import it from here
from bot.privacy.access_log import ACCESS_ACTIONS, Access, AccessLog
from bot.privacy.anonymise import REMOVED, anonymise
from bot.privacy.model import Kind, PhoneCheck, PrivacyRequest, RequestStatus
from bot.privacy.notice import NOTICE_TEXT, Notices, check_details_url, details_url, notice_text
from bot.privacy.requests import ACCESS_DONE_TEXT, DELETE_DONE_TEXT, REJECTED_TEXT, PrivacyRequests
from bot.privacy.retention import DEFAULT_RETENTION_DAYS, PURGE_CHUNK, Retention, retention_days

__all__ = [
    "ACCESS_ACTIONS",
    "ACCESS_DONE_TEXT",
    "Access",
    "AccessLog",
    "CustomerInChat",
    "DEFAULT_RETENTION_DAYS",
    "DELETE_DONE_TEXT",
    "Kind",
    "NOTICE_TEXT",
    "Notices",
    "PURGE_CHUNK",
    "PhoneCheck",
    "PrivacyRequest",
    "PrivacyRequests",
    "REJECTED_TEXT",
    "REMOVED",
    "RequestStatus",
    "Retention",
    "anonymise",
    "check_details_url",
    "details_url",
    "notice_text",
    "retention_days",
]
