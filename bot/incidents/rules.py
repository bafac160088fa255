"""Rules of outage detection (故障聚合), read from a YAML file an operator can edit without a code change:
known areas with aliases, address patterns (…小区, …花园, …路…号), symptoms and their phrasings,
thresholds per kind of key, the window, the default recovery time, and the customer texts.

`RuleBook` re-reads the file when it changes; a broken edit is logged and the last good rules stay.
The path is bot/incidents/outage_rules.yml unless OUTAGE_RULES_FILE names another.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from bot.errors import InvalidInput

logger = logging.getLogger(__name__)

DEFAULT_RULES = Path(__file__).with_name("outage_rules.yml")
KINDS = ("area_symptom", "area", "symptom")  # most specific first

DEFAULT_TEXTS = {
    "known_fault": (
        "我们已经注意到{subject}（故障单 {incident}），技术人员正在抢修，预计 {eta} 前恢复。"
        "您的工单 {ticket} 已并入这次故障统一处理，不需要再排队等人工；恢复后我们会第一时间通知您。"
    ),
    "eta_changed": "关于{subject}（故障单 {incident}）：预计恢复时间更新为 {eta}。{note}给您带来不便，非常抱歉。",
    "recovered": "好消息：{subject}（故障单 {incident}）已经修复，{resolution}。如果您那边还有问题，请直接回复告诉我们。",
}


_SAMPLE = {"subject": "", "incident": "", "eta": "", "ticket": "", "note": "", "resolution": ""}


# -- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownArea:
    name: str
    level: str  # estate | district
    aliases: Tuple[str, ...]


@dataclass(frozen=True)
class Symptom:
    code: str
    label: str
    phrases: Tuple[str, ...]


@dataclass(frozen=True)
class Rules:
    window: timedelta
    thresholds: Dict[str, int]
    default_eta: timedelta
    areas: Tuple[KnownArea, ...]
    patterns: Tuple[re.Pattern, ...]
    strip_prefixes: Tuple[str, ...]
    estate_words: Tuple[str, ...]
    not_places: Tuple[str, ...]
    symptoms: Tuple[Symptom, ...]
    texts: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Dict[str, Any]) -> "Rules":
        """Rules from the YAML document; InvalidInput names what is wrong."""
        if not isinstance(data, dict):
            raise InvalidInput("outage rules must be a mapping")
        try:
            thresholds = {kind: int((data.get("thresholds") or {}).get(kind) or 0) for kind in KINDS}
            areas = tuple(
                KnownArea(str(a["name"]), str(a.get("level") or "district"), tuple(str(x) for x in a.get("aliases") or ()))
                for a in data.get("areas") or ()
            )
            patterns = tuple(re.compile(p) for p in data.get("address_patterns") or ())
            for pattern in patterns:
                if "name" not in pattern.groupindex:
                    raise InvalidInput(f"address pattern {pattern.pattern!r} needs a (?P<name>...) group")
            symptoms = tuple(
                Symptom(str(code), str(spec.get("label") or code), tuple(str(p) for p in spec.get("phrases") or ()))
                for code, spec in (data.get("symptoms") or {}).items()
            )
            texts = dict(DEFAULT_TEXTS)
            texts.update({k: str(v).strip() for k, v in (data.get("texts") or {}).items() if k in DEFAULT_TEXTS})
            for text in texts.values():  # an unknown {placeholder} is found now, not with a customer waiting
                text.format(**_SAMPLE)
            return cls(
                window=timedelta(minutes=float(data.get("window_minutes") or 30)),
                thresholds=thresholds,
                default_eta=timedelta(hours=float(data.get("default_eta_hours") or 4)),
                areas=areas,
                patterns=patterns,
                # Longest first, so 我们家 goes before 我.
                strip_prefixes=tuple(sorted((str(p) for p in data.get("strip_prefixes") or ()), key=len, reverse=True)),
                estate_words=tuple(sorted((str(w) for w in data.get("estate_words") or ()), key=len, reverse=True)),
                not_places=tuple(str(w) for w in data.get("not_places") or ()),
                symptoms=symptoms,
                texts=texts,
            )
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, re.error) as error:
            raise InvalidInput(f"outage rules: {error}") from error

    # -- extraction ---------------------------------------------------------------------------

    def area_of(self, text: str) -> Optional[str]:
        """The most specific place the text names: a known estate, an address, a known district."""
        text = text or ""
        known = [(a, alias) for a in self.areas for alias in (a.name, *a.aliases) if alias and alias in text]
        estates = [a for a, _ in known if a.level != "district"]
        if estates:
            return max(estates, key=lambda a: max(len(x) for x in (a.name, *a.aliases) if x in text)).name
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                name = self._normalise(match.group("name"))
                if name:
                    return self._canonical(name)
        if known:
            return known[0][0].name
        return None

    def symptom_of(self, text: str) -> Optional[str]:
        for symptom in self.symptoms:
            if any(phrase in (text or "") for phrase in symptom.phrases):
                return symptom.code
        return None

    def label_of(self, symptom: Optional[str]) -> str:
        for s in self.symptoms:
            if s.code == symptom:
                return s.label
        return "网络故障"

    def _normalise(self, name: str) -> str:
        # Drop what the customer said before the place: 我家住在阳光花园小区 -> 阳光花园小区
        # (cut after the last filler word that leaves a name of three characters or more).
        cut = 0
        for prefix in self.strip_prefixes:
            index = name.rfind(prefix)
            end = index + len(prefix)
            if index >= 0 and end > cut and len(name) - end >= 3:
                cut = end
        name = name[cut:]
        # 阳光花园小区 and 阳光花园 are one place; 翠湖小区 keeps its 小区.
        if name.endswith("小区") and any(name[:-2].endswith(w) for w in self.estate_words):
            name = name[:-2]
        name = name.translate(_FULL_WIDTH_DIGITS)
        if len(name) < 2 or name.startswith(self.not_places):
            return ""  # 我们小区, 这个村: a place, but not one we can name
        return name

    def _canonical(self, name: str) -> str:
        for area in self.areas:
            if name == area.name or name in area.aliases:
                return area.name
        return name

    def keys(self, area: Optional[str], symptom: Optional[str]) -> List[Tuple[str, str]]:
        """(kind, match key) of a complaint, most specific first; kinds switched off are left out."""
        found = []
        if area and symptom:
            found.append(("area_symptom", match_key(area, symptom)))
        if area:
            found.append(("area", match_key(area, None)))
        if symptom:
            found.append(("symptom", match_key(None, symptom)))
        return found

    def text(self, name: str, **values: str) -> str:
        return self.texts.get(name, DEFAULT_TEXTS[name]).format(**values)


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def match_key(area: Optional[str], symptom: Optional[str]) -> str:
    return "|".join(part for part in (f"area={area}" if area else "", f"symptom={symptom}" if symptom else "") if part)


class RuleBook:
    """The rules of a file, re-read when the file changes (checked on every use: one stat call)."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path or os.environ.get("OUTAGE_RULES_FILE") or DEFAULT_RULES)
        self._lock = threading.Lock()
        self._stamp: Optional[Tuple[int, int]] = None
        self._rules: Optional[Rules] = None

    def current(self) -> Rules:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            if self._rules is not None:
                logger.error("outage rules file %s unreadable; keeping the rules loaded before", self.path)
                return self._rules
            raise
        with self._lock:
            if stamp != self._stamp or self._rules is None:
                try:
                    rules = Rules.parse(yaml.safe_load(self.path.read_text(encoding="utf-8")))
                except (InvalidInput, yaml.YAMLError) as error:
                    if self._rules is None:
                        raise
                    logger.error("outage rules file %s invalid (%s); keeping the rules loaded before", self.path, error)
                    self._stamp = stamp
                    return self._rules
                self._rules, self._stamp = rules, stamp
                logger.info("outage rules loaded from %s", self.path)
            return self._rules
