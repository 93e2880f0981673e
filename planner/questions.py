"""Questions about an image, read without a model: how many X, what colour is X, what does
(X) say — in English, Chinese, Japanese and Korean.

The question word decides the kind; the thing asked about is read by the rules planner
(``planner.rules.understand``), so nouns of every script the planner reads come back as the
same English labels Plans carry ("苹果", "リンゴ", "사과" → apple). Anything else is ``None``:
the caller says a VLM is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

# Question cues, longest first within a kind. These are interrogatives, not nouns or
# colours: the word tables for those stay in planner/lexicon.py.
_CUES = {
    "count": ("how many", "number of", "count the", "多少", "几个", "幾個", "几只", "几", "幾",
              "いくつ", "何個", "何匹", "何本", "何人", "何枚", "何台", "몇", "얼마나 많"),
    "color": ("what colour", "what color", "which colour", "which color", "colour of",
              "color of", "什么颜色", "什麼顏色", "颜色", "顏色", "何色", "色は", "무슨 색",
              "어떤 색", "색깔", "색이", "색은"),
    "text": ("what does", "what do", "say", "written", "what text", "which text", "read",
             "写着", "寫著", "写的", "寫的", "文字", "什么字", "書いて", "何と", "쓰여", "적혀",
             "뭐라고", "글자", "문구"),
}
_ORDER = ("count", "color", "text")


@dataclass(frozen=True)
class Question:
    """``kind``: ``count``, ``color`` or ``text``; ``label``: the English label of the thing
    asked about (None: not named, e.g. "what does it say?"); ``script``: the question's
    script (Latn, Hans, Hant, Jpan, Kore), for the reply's language."""

    kind: str
    label: str | None
    script: str


def read_question(text: str) -> Question | None:
    """The kind of a question and what it asks about, or None when no rule reads it."""
    from planner.rules import detect_script, understand

    low = text.strip().lower()
    for kind in _ORDER:
        cue = next((c for c in _CUES[kind] if c in low), None)
        if cue is None:
            continue
        rest = low.replace(cue, " ")
        labels = [e.label for e in understand(rest).entities
                  if e.label not in ("what", "which", "it", "this", "that")]
        return Question(kind, labels[0] if labels else None, detect_script(text))
    return None


def label_matches(asked: str, label: str) -> bool:
    """Does a Plan label stand for the thing asked about ("apple" ~ "red apple")?"""
    a, b = asked.lower().split(), label.lower().split()
    return bool(a) and (a == b[-len(a):] or b == a[-len(b):])
