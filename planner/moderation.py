"""A local, explainable moderation filter for prompts and edit instructions.

The text is normalised into a few *views* (so obfuscation folds back onto plain words), then
the rules of configs/moderation.yaml are matched on every view. A rule is one or more term
groups; it fires when each group matches (a word for a child AND a sexual word). The verdict
names the category, the rule and the matched terms, so every refusal can be explained.

Normalisation (applied to the text and, identically, to every configured term):
  NFKC (full-width letters, ligatures) → zero-width and bidi controls removed → case folded →
  Latin diacritics stripped → Cyrillic/Greek homoglyphs mapped to Latin → Arabic
  diacritics/tatweel removed and letter variants unified (أ إ آ → ا, ى → ي, ة → ه) →
  joiner punctuation inside a word removed ("n.u.d.e", "p*o*r*n") → whitespace collapsed.
Views: that text; with leetspeak mapped ("n00d", "$ex"); with runs of single letters
rejoined ("n u d e"); each also with repeated letters squeezed ("nuuude").

No torch, no PIL: this runs before planning on every request.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

LEVELS = ("auto", "low")
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "moderation.yaml"

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0]")
# Lookalikes of Latin letters (Cyrillic, Greek, a few Latin variants).
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i", "ł": "l", "ø": "o",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ѵ": "v", "ԍ": "g", "ӏ": "l",
})
_ARABIC = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
                         "ـ": None})
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "8": "b", "9": "g", "@": "a", "$": "s", "!": "i", "|": "l"})
# Punctuation that obfuscators put inside a word; other punctuation separates words.
_JOINERS = re.compile(r"(?<=\w)[.\-_*'`~^·•‧’]+(?=\w)")
_SEPARATORS = re.compile(r"[^\w@$!|]+")
_TRAILING = re.compile(r"(?<=\w)[!|]+(?=\s|$)")
_SINGLES = re.compile(r"(?<!\S)(?:[\w@$!|] )(?:[\w@$!|] )+[\w@$!|](?!\S)")
_REPEATS = re.compile(r"(\w)\1+")

_HANGUL = re.compile("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_LATIN = re.compile("[a-z0-9]")
_AR_PREFIX = "(?:[وف])?(?:[بلك])?(?:ال|ل)?"
_AR_SUFFIX = "(?:ه|ات|ين|ون|ان|ها|هم|ي|يه|يات|يين)?"


class ModerationConfigError(ValueError):
    """A moderation config that does not fit the expected shape; names the key."""


@dataclass(frozen=True)
class Verdict:
    """The decision on one text.

    ``category`` and ``rule`` are None when allowed; ``matched`` holds the configured terms
    that fired (one per group) and ``reason`` says all of it in one sentence.
    """

    allowed: bool
    category: str | None = None
    reason: str = "allowed"
    rule: str | None = None
    matched: tuple[str, ...] = ()
    level: str = "auto"


def _base(text: str) -> str:
    """Normalise one string (the text or a term) before views are made."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).casefold()
    out = []
    for ch in text:
        if "\u00c0" <= ch <= "\u024f":  # Latin with diacritics: keep the base letter
            ch = "".join(c for c in unicodedata.normalize("NFKD", ch)
                         if not unicodedata.combining(c))
        out.append(ch)
    text = "".join(out).translate(_CONFUSABLES).translate(_ARABIC)
    text = _ARABIC_MARKS.sub("", text)
    text = _JOINERS.sub("", text)
    text = _TRAILING.sub("", text)
    return " ".join(_SEPARATORS.sub(" ", text).split())


_LEET_L = {ord("1"): "l"}


def _leet(text: str, one: str = "i") -> str:
    """Map leetspeak inside words that hold at least one letter ("n00d" → "nood").

    ``one``: what "1" stands for ("i" in "k1ll", "l" in "exp1icit")."""
    table = _LEET if one == "i" else {**_LEET, **_LEET_L}
    return " ".join(t.translate(table) if re.search(r"[^\W\d_]", t) else t
                    for t in text.split(" "))


def _rejoin(text: str) -> str:
    """Join runs of three or more single characters: "n u d e" → "nude"."""
    return _SINGLES.sub(lambda m: m.group(0).replace(" ", ""), text)


def _runs(text: str) -> list[str]:
    """The rejoined runs alone: "n a k e d k i d s" → ["nakedkids"] (no word gaps known)."""
    return [m.group(0).replace(" ", "") for m in _SINGLES.finditer(text)]


def squeeze(text: str) -> str:
    """Collapse repeated characters: "nuuude" → "nude" (terms are squeezed the same way)."""
    return _REPEATS.sub(r"\1", text)


def views(text: str) -> dict[str, str]:
    """The normalised views of ``text`` that rules are matched against.

    Returns:
        ``{name: text}`` with names ``plain``, ``leet`` (and ``leet_l`` when "1" may be an
        "l"), ``joined``, ``leet_joined``,
        ``runs`` (rejoined single letters only; matched without word boundaries, since
        "n a k e d k i d s" hides where words end) and a ``*_squeezed`` twin of each; and
        ``masked`` when a letter is starred out ("p*rn": the star may stand for any letter).
    """
    base = _base(text)
    # Separators that are also leet characters were kept by _base; drop them for plain.
    plain = " ".join(re.sub(r"[@$!|]+", " ", base).split())
    out = {"plain": plain, "leet": _leet(base)}
    leet_l = _leet(base, one="l")
    if leet_l != out["leet"]:
        out["leet_l"] = leet_l
    out["joined"] = _rejoin(out["plain"])
    # Rejoin before mapping leet: a lone "0" in "p 0 r n" holds no letter to map beside.
    out["leet_joined"] = _leet(_rejoin(base))
    runs = _runs(out["plain"]) + _leet(" ".join(_runs(base))).split()
    out["runs"] = " ".join(dict.fromkeys(runs))
    for name in list(out):
        out[name + "_squeezed"] = squeeze(out[name])
    if _MASKED.search(text):
        out["masked"] = _base(_MASKED.sub(MASK, text))
    return out


def _term_pattern(term: str, squeezed: bool, bounded: bool = True,
                  masked: bool = False) -> str | None:
    """Regex source for one configured term on a (squeezed) view; None if not applicable.

    ``bounded=False`` drops word boundaries (for the ``runs`` view); ``masked=True`` lets
    MASK stand for any letter of a Latin term (for the ``masked`` view)."""
    if term.startswith("re:"):
        return None if squeezed or masked else term[3:]
    # A placeholder made of letters survives normalisation where "*" would not.
    norm = _base(term.replace("*", "qxstarxq")).replace("qxstarxq", "*")
    if squeezed:
        short = squeeze(norm)
        # "xxx" squeezed is "x": a term that shrinks that far would match ordinary text.
        if short != norm and len(short.replace(" ", "")) < 4:
            return None
        norm = short
    words = [w for w in norm.split(" ") if w]
    if not words:
        return None
    def word_re(w: str, sep: str) -> str:
        return sep.join(r"\w*" if c == "*" else f"[{c}{MASK}]" if masked and c.isalpha()
                        else re.escape(c) for c in w)
    if masked and (not _LATIN.search(norm) or len(norm.replace(" ", "")) < 4):
        return None   # starred-out letters only in Latin words of four letters or more
    if _LATIN.search(norm):
        body = r"\s*".join(word_re(w, "") for w in words)
        tail = "" if norm.endswith("*") else "(?:e?s)?"
        return rf"(?<!\w){body}{tail}(?!\w)" if bounded else body
    if _ARABIC_LETTER.search(norm):
        body = r"\s*".join(word_re(w, "") for w in words)
        return rf"(?<![\u0600-\u06ff]){_AR_PREFIX}{body}{_AR_SUFFIX}(?![\u0600-\u06ff])"
    chars = r"\s*".join(word_re(w, r"\s*") for w in words)
    if _HANGUL.search(norm):
        return rf"(?<![\uac00-\ud7a3]){chars}"
    return chars  # Chinese / Japanese: no word spaces, so any position


# How a view is matched: (squeezed, bounded by word boundaries, starred letters allowed).
Key = tuple[bool, bool, bool]
KEYS: tuple[Key, ...] = ((False, True, False), (True, True, False), (False, False, False),
                         (True, False, False), (False, True, True))
MASK = "\u01c2"   # a letter (so \w matches it) standing for a starred-out one: "p*rn"
_MASKED = re.compile(r"(?<=[^\W\d_])[*#](?=[^\W\d_])")

_NON_LATIN = re.compile("[\u0600-\u06ff\u1100-\u11ff\u3040-\u30ff\u3130-\u318f"
                        "\u3400-\u9fff\uac00-\ud7a3\uf900-\ufaff]")


def _raise_bad_term(pairs: Iterable[tuple[str, str]], where: str) -> None:
    """Name the configured term whose pattern does not compile."""
    for t, src in pairs:
        try:
            re.compile(src)
        except re.error as e:
            raise ModerationConfigError(f"{where}: bad term {t!r}: {e}") from None
    raise ModerationConfigError(f"{where}: the terms do not compile together")


@dataclass(frozen=True)
class _Group:
    terms: tuple[str, ...]
    # key → {"latin": terms in Latin letters or re:, "other": the rest}
    regex: dict[Key, dict[str, re.Pattern]]
    per_term: dict[Key, tuple[tuple[str, str], ...]]   # (term, regex source)

    @classmethod
    def build(cls, terms: Iterable[str], where: str) -> "_Group":
        terms = tuple(str(t) for t in terms)
        if not terms:
            raise ModerationConfigError(f"{where}: a term group must not be empty")
        regex, per_term = {}, {}
        for key in KEYS:
            # Term sources stay uncompiled: they are only needed to name the term behind a
            # match (rare), while compiling thousands of them made the first check take
            # seconds. The combined alternation per bucket is what runs on every text.
            pairs = tuple((t, src) for t in terms
                          if (src := _term_pattern(t, *key)) is not None)
            per_term[key] = pairs
            buckets: dict[str, list[str]] = {"latin": [], "other": []}
            for t, src in pairs:
                latin = t.startswith("re:") or not _NON_LATIN.search(t)
                buckets["latin" if latin else "other"].append(f"(?:{src})")
            regex[key] = {}
            for name, alts in buckets.items():
                if alts:
                    try:
                        regex[key][name] = re.compile("|".join(alts))
                    except re.error:
                        _raise_bad_term(pairs, where)
        return cls(terms, regex, per_term)

    def sub(self, text: str, key: Key) -> str:
        """``text`` with every match blanked (exemptions)."""
        for name, rx in self.regex[key].items():
            if name == "latin" or _NON_LATIN.search(text):
                text = rx.sub(" ", text)
        return text

    def spans(self, text: str, key: Key) -> list[tuple[int, int, str]]:
        """Every match in ``text`` as (start, end, configured term)."""
        out = []
        for name, rx in self.regex[key].items():
            # Chinese/Japanese/Korean/Arabic terms cannot match text without those letters.
            if name != "latin" and not _NON_LATIN.search(text):
                continue
            for m in rx.finditer(text):
                term = next((t for t, src in self.per_term[key]
                             if re.fullmatch(src, m.group(0))),
                            m.group(0))
                out.append((m.start(), m.end(), term))
        return sorted(out)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    level: str                         # "low": applies at low and auto; "auto": auto only
    groups: tuple[_Group, ...]
    within: int | None = None

    def applies(self, level: str) -> bool:
        return level == "auto" or self.level == "low"

    def match_views(self, prepared: list[tuple[str, Key]]) -> tuple[str, ...] | None:
        """Match on the views of one text. Without ``within`` each group may match in a
        different view ("a t e e n a g e girl, naked": the child word is only whole in the
        rejoined view, "naked" only in the others); with ``within`` distances need one view.
        """
        if self.within is not None:
            return next((t for t in (self.match(v, k) for v, k in prepared) if t), None)
        terms = []
        for g in self.groups:
            found = next((sp for sp in (g.spans(v, k) for v, k in prepared) if sp), None)
            if found is None:
                return None
            terms.append(found[0][2])
        return tuple(terms)

    def match(self, text: str, key: Key) -> tuple[str, ...] | None:
        """The terms (one per group) that make this rule fire on ``text``, else None."""
        found = []
        for g in self.groups:          # stop at the first group that does not match
            spans = g.spans(text, key)
            if not spans:
                return None
            found.append(spans)
        if self.within is None:
            return tuple(f[0][2] for f in found)
        for anchor in found[0]:
            picks = [anchor[2]]
            for other in found[1:]:
                near = [s for s in other
                        if max(s[0] - anchor[1], anchor[0] - s[1], 0) <= self.within]
                if not near:
                    break
                picks.append(near[0][2])
            else:
                return tuple(picks)
        return None


@dataclass(frozen=True)
class Moderator:
    """Configured rules plus the exemptions that are removed before matching."""

    rules: tuple[Rule, ...]
    exempt: _Group | None = None
    descriptions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_CONFIG) -> "Moderator":
        """Load a moderation YAML (see configs/moderation.yaml for the format).

        Raises:
            ModerationConfigError: for an unknown key, a bad level or an empty group.
        """
        import yaml

        with open(path, encoding="utf-8") as f:
            raw = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        return cls.from_dict(raw, Path(path).name)

    @classmethod
    def from_dict(cls, raw: dict, where: str = "moderation") -> "Moderator":
        _keys(raw, {"exempt", "categories"}, where)
        rules, desc = [], {}
        for cat, body in (raw.get("categories") or {}).items():
            _keys(body, {"description", "always", "rules"}, f"{where}:{cat}")
            desc[cat] = body.get("description", cat)
            for i, r in enumerate(body.get("rules") or []):
                rules.append(_rule(cat, r, bool(body.get("always")), f"{where}:{cat}[{i}]"))
        exempt = raw.get("exempt") or []
        return cls(tuple(rules), _Group.build(exempt, f"{where}:exempt") if exempt else None,
                   desc)

    def check(self, text: str, level: str = "auto") -> Verdict:
        """Decide whether ``text`` may be drawn at moderation ``level``.

        Args:
            text: a prompt or an edit instruction, any language.
            level: ``auto`` (default, stricter) or ``low`` (less strict; never allows
                sexual content involving minors).
        Returns:
            A Verdict naming the category, rule and matched terms when refused.
        Raises:
            ValueError: for a level outside ``auto``, ``low``.
        """
        if level not in LEVELS:
            raise ValueError(f"moderation must be one of {', '.join(LEVELS)}; got {level!r}")
        if not isinstance(text, str) or not text.strip():
            return Verdict(True, level=level)
        prepared, seen = [], set()
        for name, view in views(text).items():
            key = (name.endswith("_squeezed"), not name.startswith("runs"), name == "masked")
            if (view, key) in seen or not view:   # most views of plain text are identical
                continue
            seen.add((view, key))
            prepared.append((self.exempt.sub(view, key) if self.exempt else view, key))
        for rule in self.rules:
            terms = rule.match_views(prepared) if rule.applies(level) else None
            if terms:
                what = self.descriptions.get(rule.category, rule.category)
                said = " + ".join(repr(t) for t in terms)
                return Verdict(False, rule.category,
                               f"refused: {what} (category {rule.category}, rule "
                               f"{rule.id}, matched {said})", rule.id, terms, level)
        return Verdict(True, level=level)


def _keys(body: object, allowed: set[str], where: str) -> None:
    if not isinstance(body, dict):
        raise ModerationConfigError(f"{where}: expected a mapping")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ModerationConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                                    f"allowed: {', '.join(sorted(allowed))}")


def _rule(category: str, raw: dict, always: bool, where: str) -> Rule:
    _keys(raw, {"id", "level", "groups", "within"}, where)
    level = raw.get("level", "auto")
    if level not in LEVELS:
        raise ModerationConfigError(f"{where}: level must be one of {', '.join(LEVELS)}; "
                                    f"got {level!r}")
    groups = raw.get("groups") or []
    if not groups:
        raise ModerationConfigError(f"{where}: a rule needs at least one term group")
    # A category marked always (minors) is refused at every level, whatever the file says.
    return Rule(raw.get("id") or f"{category}.{len(groups)}", category,
                "low" if always else level,
                tuple(_Group.build(g, f"{where}.groups") for g in groups), raw.get("within"))


@lru_cache(maxsize=4)
def default_moderator(path: str = str(DEFAULT_CONFIG)) -> Moderator:
    """The moderator for configs/moderation.yaml (or ``$LIMNER_MODERATION_CONFIG``), cached."""
    return Moderator.from_file(path)


def check(text: str, level: str = "auto") -> Verdict:
    """Moderate a prompt or instruction with the configured lists (see Moderator.check)."""
    import os

    return default_moderator(os.environ.get("LIMNER_MODERATION_CONFIG") or
                             str(DEFAULT_CONFIG)).check(text, level)


__all__ = ["LEVELS", "Moderator", "ModerationConfigError", "Verdict", "check", "views"]
