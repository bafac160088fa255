"""Intent classification and FAQ answer selection with linear models over character and word n-grams.

Why not DIET and Rasa's ResponseSelector: on this data (about 4,000 messages, a fifth of them long
posted complaints) DIET without transformer layers took about 10 minutes to train on two cores and
read customers it had never seen *less* well than a logistic regression on the same kind of
features (`make eval`, see nlu/README.md). The linear models train in seconds, parse in a few
milliseconds, and give probabilities the fallback and clarification thresholds can be calibrated on.

Features (`TextFeatures`): TF-IDF (sublinear) of character 1–3-grams of the text, which carry typos,
homophones and words Jieba splits badly, plus word 1–2-grams of the Jieba tokens the pipeline's
tokenizer already made, plus the pinyin of those tokens and of the text's syllables (pypinyin), so
that a sound-alike written with other characters reads like the word that was meant. Classifier: one-vs-rest logistic regression (liblinear), balanced classes.

* `LinearIntentClassifier` sets the intent and its ranking, like any Rasa intent classifier.
* `LinearResponseSelector` picks the FAQ answer (`consult/<topic>`) and writes it where Rasa's own
  ResponseSelector would (``response_selector.consult``). It runs only for messages that may be
  consultations: read as one, or with a consultation close behind (the clarifying question offers it).
"""

from __future__ import annotations

import functools
import logging
import pickle
import re
import unicodedata
from typing import Any, Dict, List, Sequence, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
    TOKENS_NAMES,
)
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.simplified import simplified
from nlu.scoring import Scorer

logger = logging.getLogger(__name__)

_SEPARATOR = "\x1e"  # between the text and its tokens in one feature input
_TOKEN = "\x1f"  # between tokens


def feature_input(message: Message) -> str:
    """The text and the pipeline's tokens of a message, packed into one string for the vectorizers."""
    text = message.get(TEXT) or ""
    tokens = [t.text for t in message.get(TOKENS_NAMES[TEXT]) or []]
    return f"{text}{_SEPARATOR}{_TOKEN.join(tokens)}"


def text_part(packed: str) -> str:
    """Preprocessor of the character vectorizer: the lower-cased text in Simplified characters
    (bot/simplified.py), emoji spelt out in Chinese.

    Customers answer with an emoji alone (👌, ❌, 🙅, 🙏). As raw characters, an emoji the training
    data never had is no feature at all; spelt out by the `emoji` library's Chinese names (❌ 叉号,
    🙅 禁止手势, 🙆 OK手势, ✖️ 乘号) it shares characters with the ones it had, and with words.
    """
    import emoji

    text = simplified(packed.split(_SEPARATOR, 1)[0]).lower()
    return emoji.demojize(text, language="zh", delimiters=(" ", " ")) if emoji.emoji_count(text) else text


def word_ngrams(packed: str) -> List[str]:
    """Analyzer of the word vectorizer: token unigrams and bigrams."""
    raw = packed.split(_SEPARATOR, 1)[1] if _SEPARATOR in packed else ""
    tokens = [t.lower() for t in raw.split(_TOKEN) if t.strip()]
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def pinyin_words(packed: str) -> List[str]:
    """Analyzer of the sound-alike vectorizer: the pinyin (no tones) of each token, unigrams and bigrams.

    Speech recognition and pinyin input methods replace a word by another one that sounds the same
    (刘亮 for 流量, 款待 for 宽带, 斜号转网 for 携号转网); the characters differ but the pinyin does not.
    """
    return list(_pinyin_words(packed))


def pinyin_syllables(packed: str) -> List[str]:
    """Analyzer of the syllable vectorizer: pinyin syllables of the text and their bigrams.

    Unlike `pinyin_words` this does not depend on where Jieba cut a misspelt word.
    """
    return list(_pinyin_syllables(packed))


# Both linear components read every message that may be a consultation, with the same analyzers;
# pypinyin is the costliest part of their features, so each message's pinyin is computed once.
@functools.lru_cache(maxsize=256)
def _pinyin_words(packed: str) -> Tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    raw = packed.split(_SEPARATOR, 1)[1] if _SEPARATOR in packed else ""
    # Tokens without a Chinese character (latin, digits, emoji) have no sound to add: the word
    # vectorizer has them already.
    sounds = ["".join(lazy_pinyin(t, style=Style.NORMAL, errors="ignore")).lower() for t in raw.split(_TOKEN)]
    sounds = [s for s in sounds if s]
    return tuple([f"p:{s}" for s in sounds] + [f"p:{a} {b}" for a, b in zip(sounds, sounds[1:])])


@functools.lru_cache(maxsize=256)
def _pinyin_syllables(packed: str) -> Tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    text = text_part(packed)
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="ignore") + typed_pinyin(text)
    return tuple([f"s:{s}" for s in syllables] + [f"s:{a}_{b}" for a, b in zip(syllables, syllables[1:])])


_LATIN_WORD = re.compile(r"[a-z]{2,40}")


@functools.lru_cache(maxsize=1)
def _syllable_inventory() -> frozenset:
    """Every toneless pinyin syllable (about 420), from pypinyin's own dictionary."""
    from pypinyin import pinyin_dict

    found = set()
    for readings in pinyin_dict.pinyin_dict.values():
        for reading in readings.split(","):
            plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
            found.add(plain)
    return frozenset(found)


def _segment(word: str, inventory: frozenset) -> List[str]:
    """The fewest syllables that spell `word` exactly ("zhuanrengong" -> zhuan ren gong), or []."""
    best: List[Any] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            if best[start] is not None and word[start:end] in inventory:
                candidate = best[start] + [word[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[len(word)] or []


def typed_pinyin(text: str) -> List[str]:
    """Syllables of words typed in pinyin without converting them ("nihao", "zhuan rengong", "xiexie").

    Customers without a Chinese input method (or in a hurry) write the sound; spelt into syllables it
    reads like the characters the training data has. A Latin word that is not pinyin throughout
    ("wifi", "ok", "app") gives nothing.
    """
    inventory = _syllable_inventory()
    syllables: List[str] = []
    for word in _LATIN_WORD.findall(text):
        syllables.extend(_segment(word, inventory))
    return syllables


def build_model(c: float) -> Any:
    """The feature union and classifier (built at training time; sklearn is imported lazily)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), preprocessor=text_part, sublinear_tf=True),
        TfidfVectorizer(analyzer=word_ngrams, sublinear_tf=True),
        TfidfVectorizer(analyzer=pinyin_words, sublinear_tf=True),
        TfidfVectorizer(analyzer=pinyin_syllables, sublinear_tf=True),
    )
    return make_pipeline(features, LogisticRegression(C=c, solver="liblinear", class_weight="balanced"))


class _LinearComponent(GraphComponent):
    """Training, persistence and loading shared by both components."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"c": 10.0, "ranking_length": 10}

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model: Any = None
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.model_storage = model_storage
        self.resource = resource
        self.model = model
        # Built with the model (at load or after training), not on the first customer's turn.
        self._scorer: Any = Scorer(model) if model is not None else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_LinearComponent":
        return cls(config, model_storage, resource)

    def examples(self, training_data: TrainingData) -> Tuple[List[str], List[str]]:
        raise NotImplementedError

    def train(self, training_data: TrainingData) -> Resource:
        inputs, labels = self.examples(training_data)
        if len(set(labels)) < 2:
            logger.warning("%s: fewer than two labels to learn; nothing trained", self.__class__.__name__)
            return self.resource
        self.model = build_model(float(self.config["c"])).fit(inputs, labels)
        self._scorer = Scorer(self.model)
        with self.model_storage.write_to(self.resource) as directory:
            (directory / "model.pkl").write_bytes(pickle.dumps(self.model, protocol=4))
        return self.resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "_LinearComponent":
        try:
            with model_storage.read_from(resource) as directory:
                # Our own training output, inside our own model archive.
                model = pickle.loads((directory / "model.pkl").read_bytes())  # noqa: S301
        except (ValueError, FileNotFoundError):
            model = None
        return cls(config, model_storage, resource, model)

    def ranked(self, messages: Sequence[Message]) -> List[List[Tuple[str, float]]]:
        """Labels by probability, best first, for each message."""
        if self.model is None or not messages:
            return [[] for _ in messages]
        scorer = self._scorer
        labels = list(self.model.classes_)
        length = int(self.config["ranking_length"]) or len(labels)
        out = []
        for message in messages:
            columns, values = scorer.columns(feature_input(message))
            row = scorer.probabilities(columns, values)
            if not scorer.known(columns):
                # Not one character or word the model has seen (another script, emoji only): the
                # classifier would answer with its bias alone, "affirm" at 0.51, which confirmed
                # complaints on "нет". Every label equally likely lets the fallback take it.
                row = [1.0 / len(labels)] * len(labels)
            order = sorted(range(len(labels)), key=lambda i: -row[i])[:length]
            out.append([(labels[i], float(row[i])) for i in order])
        return out


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(_LinearComponent):
    def examples(self, training_data: TrainingData) -> Tuple[List[str], List[str]]:
        pairs = [(feature_input(e), e.get(INTENT)) for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def process(self, messages: List[Message]) -> List[Message]:
        for message, ranking in zip(messages, self.ranked(messages)):
            if not ranking:
                continue
            name, confidence = ranking[0]
            message.set(INTENT, {"name": name, "confidence": confidence}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ranking], add_to_output=True
            )
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearResponseSelector(_LinearComponent):
    """Picks the FAQ answer of a consultation; see the module docstring."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # `min_consult`: how likely a consultation must be (when it is not the top reading) for an
        # answer to be picked anyway, so a clarifying question can offer it.
        return {"c": 10.0, "ranking_length": 5, "retrieval_intent": "consult", "min_consult": 0.15}

    def examples(self, training_data: TrainingData) -> Tuple[List[str], List[str]]:
        intent = self.config["retrieval_intent"]
        pairs = [
            (feature_input(e), e.get(INTENT_RESPONSE_KEY))
            for e in training_data.intent_examples
            if e.get(INTENT) == intent and e.get(INTENT_RESPONSE_KEY) and e.get(TEXT)
        ]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def _wanted(self, message: Message) -> bool:
        intent = self.config["retrieval_intent"]
        if (message.get(INTENT) or {}).get("name") == intent:
            return True
        ranking = message.get(INTENT_RANKING_KEY) or []
        return any(r.get("name") == intent and r.get("confidence", 0) >= self.config["min_consult"] for r in ranking[:2])

    def process(self, messages: List[Message]) -> List[Message]:
        wanted = [m for m in messages if self._wanted(m)]
        for message, ranking in zip(wanted, self.ranked(wanted)):
            if not ranking:
                continue
            key, confidence = ranking[0]
            prediction = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    "id": None,
                    "responses": [],
                    "confidence": confidence,
                    INTENT_RESPONSE_KEY: key,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: f"utter_{key}",
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {"id": None, "confidence": c, INTENT_RESPONSE_KEY: k} for k, c in ranking
                ],
            }
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = [self.config["retrieval_intent"]]
            properties[self.config["retrieval_intent"]] = prediction
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages
