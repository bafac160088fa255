"""Rasa NLU component: explicit escalation words override the predicted intent.

Runs after the statistical classifiers (and the fallback classifier), so "转人工" escalates even when
the model is unsure. The rules themselves live in `bot/escalation.py`.
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
            if reason is None or (message.get(INTENT) or {}).get("name") == ESCALATE:
                continue
            message.set(INTENT, {"name": ESCALATE, "confidence": 1.0, "rule": reason}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != ESCALATE]
            message.set(INTENT_RANKING_KEY, [{"name": ESCALATE, "confidence": 1.0}, *ranking], add_to_output=True)
        return messages
