"""The Template class every label group is written with, and the word lists several groups share.

A template is one message shape for one label: a pattern of ``{slot}`` fields filled from its own
slots and from ``lexicon.LEXICON`` (see the package docstring for the rules).
"""

from __future__ import annotations

import random
import string
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nlu.generate.lexicon import LEXICON

_FORMATTER = string.Formatter()


def _fields(pattern: str) -> List[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(pattern) if name]


class Template:
    """One message shape for one label; ``fill`` draws a clean sentence from it."""

    def __init__(
        self,
        id: str,
        label: str,
        pattern: str,
        slots: Optional[Mapping[str, Any]] = None,
        noise: Optional[Sequence[str]] = None,
        **more_slots: Any,
    ) -> None:
        self.id = id
        self.label = label
        self.pattern = pattern
        self.slots: Dict[str, Any] = {**(slots or {}), **more_slots}
        self.noise = tuple(noise) if noise is not None else None

    def __repr__(self) -> str:
        return f"Template({self.id!r}, {self.label!r}, {self.pattern!r})"

    def _lookup(self, name: str, wanted: Sequence[str]) -> Tuple[List[str], Any]:
        """The field names a slot source fills, and the source, for field ``name``.

        A template's own combined slot ("who,watch") always wins, so its members agree; a shared
        combined slot ("family,pron") is used when the pattern asks for another of its members.
        """
        for key, value in self.slots.items():
            if name in key.split(","):
                return key.split(","), value
        for key, value in LEXICON.items():
            names = key.split(",")
            if len(names) > 1 and name in names and any(n in wanted for n in names if n != name):
                return names, value
        if name in LEXICON:
            return [name], LEXICON[name]
        for key, value in LEXICON.items():
            if name in key.split(","):
                return key.split(","), value
        raise KeyError(f"template {self.id}: no slot {name!r}")

    def fill(self, rng: random.Random) -> str:
        """A clean sentence; values chosen once are kept for fields that nested slots bring in."""
        text = self.pattern
        values: Dict[str, str] = {}
        for _ in range(4):
            wanted = _fields(text)
            if not wanted:
                return text
            for name in wanted:
                if name in values:
                    continue
                names, source = self._lookup(name, wanted)
                choice = source(rng) if callable(source) else rng.choice(source)
                if len(names) == 1:
                    values[name] = choice
                else:
                    values.update(zip(names, choice))
            text = text.format(**values)
        raise ValueError(f"template {self.id}: slots nest too deeply")


T = Template

# Word lists shared by several groups ------------------------------------------------------------

_DUR = ["三天", "一个星期", "半个月", "好几天", "两天"]
