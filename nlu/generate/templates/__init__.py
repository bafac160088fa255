"""Templates per label: the shapes of message customers write most, and the ones classifiers confuse.

Labels follow nlu/LABELS.md: a message is labelled by what the customer wants from us now, not by
the words it contains. The templates therefore come in contrasting groups, for instance

* a self-service command ("帮我查下流量", "给我换成畅享129") is ``consult/<topic>`` however curt;
* "我要投诉" plus a concrete grievance is the grievance's complaint category, not ``escalate``;
* a question of *where something stands* that mentions 退款/审核/投诉/报修 is ``check_ticket_status``,
  while saying that the same thing is late, as a grievance, is a complaint;
* anger, a hotline number or a deadline is still a complaint; only asking for a person or a
  higher level, or threatening the regulator, media or court, is ``escalate``.

Each template has a stable id: it is written into every generated example's metadata, so that
cross-validation can keep all variants of one template on one side of a split, and so that a
reviewer can find the template behind a bad line. Renaming an id changes the committed output.

Patterns use ``{slot}`` fields. A slot is looked up first in the template's own ``slots`` and then
in ``lexicon.LEXICON``; a slot value may itself contain fields (filled in a second pass), and a key
such as ``"family,pron"`` fills two fields from one tuple so that they agree.

The templates are split by label group (consult, complaints, follow-up requests, small talk);
``TEMPLATES`` joins them in one fixed order, which the generated file depends on.
"""

from __future__ import annotations

from typing import List

from nlu.generate.templates.base import Template
from nlu.generate.templates.chat import CHAT
from nlu.generate.templates.complaints import COMPLAINTS
from nlu.generate.templates.consult import CONSULT
from nlu.generate.templates.follow_up import FOLLOW_UP

TEMPLATES: List[Template] = [*CONSULT, *COMPLAINTS, *FOLLOW_UP, *CHAT]

__all__ = ["TEMPLATES", "Template"]
