"""Rasa's ResponseSelector, run only where its answer is used.

The response selector picks the FAQ answer of a consultation (``consult/<topic>``). Rasa runs it
on every message, although its answer is read only when the intent classifier found the retrieval
intent; for every other message that was a second neural network pass for nothing (about an
eighth of a simple turn's CPU, profiled with py-spy). Training is unchanged.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalResponseSelector(ResponseSelector):
    def process(self, messages: List[Message]) -> List[Message]:
        if not self.retrieval_intent:
            return super().process(messages)
        wanted = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.retrieval_intent]
        if wanted:
            super().process(wanted)
        return messages
