"""Rasa NLU component: explicit escalation words override the predicted intent.

Runs after the statistical classifiers (and the fallback classifier), so "转人工" escalates even when
the model is unsure. The rules themselves live in `bot/escalation.py`.

A word is not always a request. "热线按0转人工根本没反应" and "客服说要上级审批" tell a grievance or ask
for progress; "报警电话是110吗" is not ours at all. When the classifier is sure of such a reading
(`OUTWEIGH`), a person or supervisor word does not override it, and a regulator word overrides
everything but a sure `out_of_scope`. A request in so many words ("帮我转人工") always escalates. And without any such word, the
classifier's own `escalate` must be fairly sure (`UNSURE_ESCALATION`), or its next reading is taken.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import escalation
from bot.text import is_blank

ESCALATE = "escalate"
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
# How sure the classifier must be of another reading for a person or supervisor word not to decide.
# Every held-out request for a person or supervisor reads as `escalate` to the classifier anyway;
# hotline grievances that mention 人工 or 坐席 read as complaints at 0.82-0.95.
OUTWEIGH = 0.8
# Below this, the classifier's own `escalate` (no escalation word in the message) is more often an
# angry complaint than a request: on the held-out sets, all 4 such readings under 0.55 were
# complaints, 2 of 3 between 0.55 and 0.7 too, and every one from 0.74 up was a request. The next
# reading is taken instead; a customer who did want a person can still ask at any step.
UNSURE_ESCALATION = 0.55


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EscalationRules(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EscalationRules":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.strip() and is_blank(text):
                # Only invisible characters (zero-width spaces, a BOM, bidi marks): the classifier sees
                # no features and answers with its prior, "affirm" (0.51), which confirmed complaints.
                message.set(INTENT, {"name": FALLBACK, "confidence": 1.0, "rule": "blank"}, add_to_output=True)
                continue
            reason = escalation.signal(text)
            if reason is None:
                _doubt_unsure_escalation(message)
                continue
            if (message.get(INTENT) or {}).get("name") == ESCALATE:
                continue
            if not escalation.explicit_request(text) and _outweighed(message, reason):
                continue
            message.set(INTENT, {"name": ESCALATE, "confidence": 1.0, "rule": reason}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != ESCALATE]
            message.set(INTENT_RANKING_KEY, [{"name": ESCALATE, "confidence": 1.0}, *ranking], add_to_output=True)
        return messages


def _outweighed(message: Message, reason: str) -> bool:
    """The classifier is sure of a reading the escalation word does not overrule (see the module doc)."""
    ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != FALLBACK]
    if not ranking or ranking[0].get("name") == ESCALATE or float(ranking[0].get("confidence") or 0.0) < OUTWEIGH:
        return False
    return reason != escalation.REGULATOR[1] or ranking[0].get("name") == OUT_OF_SCOPE


def _doubt_unsure_escalation(message: Message) -> None:
    """Take the next reading when `escalate` won narrowly without a word that asks for it."""
    intent = message.get(INTENT) or {}
    if intent.get("name") != ESCALATE or float(intent.get("confidence") or 0.0) >= UNSURE_ESCALATION:
        return
    ranking = message.get(INTENT_RANKING_KEY) or []
    others = [r for r in ranking if r.get("name") not in (ESCALATE, FALLBACK)]
    if not others:
        return
    escalate = [r for r in ranking if r.get("name") == ESCALATE]
    message.set(INTENT, {**others[0], "rule": "unsure_escalation"}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [others[0], *escalate, *others[1:]], add_to_output=True)
