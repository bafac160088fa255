"""Rasa NLU component: Jieba's tokens of the message read as Simplified Chinese (bot/simplified.py).

Jieba's dictionary, and ours in nlu/jieba, are Simplified: 轉人工 or 寬頻斷線 would be cut into single
unknown characters. The tokens are cut from the converted text (a character for a character, so
their offsets still fit the original); the message's own text is left as written.
"""

from __future__ import annotations

from typing import Any, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.training_data.message import Message

from bot.simplified import simplified


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class SimplifyingJiebaTokenizer(JiebaTokenizer):
    """Jieba with the project dictionary, over the Simplified reading of the text."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        simplified("轉")  # builds the conversion table (about 0.3 s) while the model loads, not in a customer's turn

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        reading = simplified(text)
        if reading == text:
            return super().tokenize(message, attribute)
        return super().tokenize(Message(data={attribute: reading}), attribute)
