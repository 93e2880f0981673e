"""Revise a Plan from a plain-language edit instruction (DESIGN.md, "Editing is a Plan diff").

Two steps, kept apart so a language model can take over the first one:

1. ``parse(plan, instruction)`` → typed edit operations (``EditOp``: add, add_text, remove,
   replace, recolor, move, resize, set_text, background, style, canvas). They are frozen
   pydantic models, so an LLM planner can emit an ``EditScript`` under its JSON Schema
   (``edit_json_schema()``).
2. ``apply_ops(plan, ops)`` → the revised Plan. Selectors ("the left apple", "the second
   cat", "all apples", "the title") are resolved against the Plan here, so parsed and
   LLM-made operations go through one code path.

Everything not named by the instruction keeps its id, box and subject id, so
``planner.diff.diff`` finds only what changed and the renderer redraws only that.
No torch, no PIL here.
"""

from __future__ import annotations

import re
import statistics
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.scene import Position, Relation
from planner.schema import (
    SCENES, Background, Box, Canvas, ObjectElement, Plan, PlanError, SizeError, Style,
    MAX_ELEMENTS, TextElement, check_prompt, check_size,
)
from planner.schema import canvas_for_area as size_for_aspect  # noqa: F401 (public name here)

Which = Literal["all", "any", "main", "left", "right", "top", "bottom", "center", "largest",
                "smallest"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Selector(_Frozen):
    """Which existing elements an operation targets.

    ``label`` is a singular noun matched against object labels; ``content`` matches a text
    element exactly; ``which`` picks by position or size among the matches (``all`` keeps
    them all, ``any`` takes one: "remove a star"); ``ordinal`` is 1-based in reading order
    (``-1`` is the last); ``ids`` name elements outright.
    """

    kind: Literal["object", "text", "any"] = "any"
    label: str | None = None
    color: str | None = None
    content: str | None = None
    role: Literal["title", "heading", "label", "body", "caption"] | None = None
    which: Which | None = None
    ordinal: int | None = None
    ids: tuple[str, ...] = ()
    last: bool = Field(default=False, description="what the previous operation made or touched")
    words: str = Field(default="", description="the user's words, for error messages")
    bare: bool = Field(default=False, description="an unqualified noun in a language without "
                       "articles (苹果, りんご, 사과): every match, said in a note when several")


class AddObject(_Frozen):
    op: Literal["add"] = "add"
    label: str
    count: int = Field(default=1, ge=1, le=20)
    color: str | None = None
    description: str = ""
    position: Position | None = None
    relation: Relation | None = None
    anchor: Selector | None = None
    anchor2: Selector | None = Field(default=None, description="second anchor of 'between'")
    size: Literal["small", "medium", "large"] | None = None
    reference: int | None = None


class AddText(_Frozen):
    """New text at ``position``, or written on the element ``on`` names (a sign's words)."""

    op: Literal["add_text"] = "add_text"
    content: str
    role: Literal["title", "heading", "label", "body", "caption"] = "title"
    color: str | None = None
    position: Position | None = None
    on: Selector | None = None


class Remove(_Frozen):
    """Remove ``target`` except what ``keep`` names ("everything except the rocket")."""

    op: Literal["remove"] = "remove"
    target: Selector
    keep: Selector | None = None


class Swap(_Frozen):
    """Exchange the places of two elements (each keeps its size)."""

    op: Literal["swap"] = "swap"
    first: Selector
    second: Selector


class Replace(_Frozen):
    op: Literal["replace"] = "replace"
    target: Selector
    label: str
    color: str | None = None
    description: str = ""
    reference: int | None = None


class Recolor(_Frozen):
    op: Literal["recolor"] = "recolor"
    target: Selector
    color: str


class Move(_Frozen):
    """Move to an absolute ``position``, next to an ``anchor``, or by ``dx, dy`` (fractions
    of the canvas)."""

    op: Literal["move"] = "move"
    target: Selector
    position: Position | None = None
    relation: Relation | None = None
    anchor: Selector | None = None
    anchor2: Selector | None = Field(default=None, description="second anchor of 'between'")
    dx: float = 0.0
    dy: float = 0.0


class Resize(_Frozen):
    op: Literal["resize"] = "resize"
    target: Selector
    factor: float = Field(gt=0.05, le=10.0)


class SetText(_Frozen):
    op: Literal["set_text"] = "set_text"
    target: Selector
    content: str


class SetBackground(_Frozen):
    op: Literal["background"] = "background"
    background: Background


class SetStyle(_Frozen):
    op: Literal["style"] = "style"
    style: Style


class SetCanvas(_Frozen):
    """A new size (``width``/``height``) or a new ``aspect`` at about the same area."""

    op: Literal["canvas"] = "canvas"
    width: int | None = None
    height: int | None = None
    aspect: tuple[int, int] | None = None


EditOp = Annotated[
    Union[AddObject, AddText, Remove, Swap, Replace, Recolor, Move, Resize, SetText,
          SetBackground, SetStyle, SetCanvas],
    Field(discriminator="op")]


class EditScript(_Frozen):
    """What an LLM planner emits for an edit: the operations in order."""

    ops: tuple[EditOp, ...] = ()


def edit_json_schema() -> dict:
    """The JSON Schema of an ``EditScript`` (for constrained decoding)."""
    return EditScript.model_json_schema()


# --- public entry points ---------------------------------------------------------------

def revise(plan: Plan, instruction: str, *, references: int = 0) -> Plan:
    """Revise ``plan`` by ``instruction`` with rules; everything not named keeps its place.

    Args:
        plan: the Plan being edited.
        instruction: e.g. "remove the left apple and make the title say SPRING SALE".
        references: how many reference images come with the edit ("add this lamp" binds
            the next unused one).
    Returns:
        The revised Plan (same seed, same prompt).
    Raises:
        PlanError: naming the clause that was not understood or matched nothing.
    """
    return revise_noted(plan, instruction, references=references)[0]


def revise_noted(plan: Plan, instruction: str, *, references: int = 0
                 ) -> tuple[Plan, tuple[str, ...]]:
    """``revise``, and the notes a user should see about how the words were read (an
    unqualified Chinese/Japanese/Korean noun that matched several elements acts on them all).

    Raises:
        PlanError: as ``revise``.
    """
    check_prompt(instruction, "instruction")
    if not instruction.strip():
        raise PlanError("edit instruction must not be empty", param="instruction")
    ctx = _Context(references=references, plan=plan)
    for clause in split_clauses(instruction, plan, ctx):
        ops = parse_clause(clause, plan, ctx)
        plan = apply_ops(plan, ops, ctx)
    return plan, tuple(ctx.notes)


def parse(plan: Plan, instruction: str, *, references: int = 0) -> list:
    """The edit operations the rules read in ``instruction`` (applied in order to ``plan``).

    Returns:
        A list of ``EditOp`` models.
    """
    ctx = _Context(references=references, plan=plan)
    out: list = []
    for clause in split_clauses(instruction, plan, ctx):
        ops = parse_clause(clause, plan, ctx)
        plan = apply_ops(plan, ops, ctx)
        out.extend(ops)
    return out


def apply_ops(plan: Plan, ops, ctx: "_Context | None" = None) -> Plan:
    """Apply edit operations in order.

    Args:
        plan: the Plan to revise.
        ops: ``EditOp`` models or their dicts (an LLM's ``EditScript.ops``).
    Returns:
        The revised Plan.
    Raises:
        PlanError: a selector that matches nothing (or several for a singular target), or an
            operation that would make an invalid Plan.
    """
    ctx = ctx or _Context()
    for op in ops:
        if isinstance(op, dict):
            try:
                op = EditScript.model_validate({"ops": [op]}).ops[0]
            except ValidationError as e:
                raise PlanError(f"invalid edit operation {op!r}: {e.errors()[0]['msg']}") from None
        _note_bare(plan, op, ctx)
        try:
            plan = _APPLY[op.op](plan, op, ctx)
        except (ValidationError, SizeError) as e:
            raise PlanError(f"edit {op.op!r} makes an invalid Plan: {e}") from None
        if len(plan.elements) > MAX_ELEMENTS:    # model_copy skips the Plan's validators
            raise PlanError(f"edit {op.op!r} would make {len(plan.elements)} elements; a Plan "
                            f"holds at most {MAX_ELEMENTS} (MAX_ELEMENTS)", param="instruction")
    return plan


def _note_bare(plan: Plan, op, ctx: "_Context") -> None:
    """A note when ``op``'s target is an unqualified noun (``Selector.bare``) that matches
    several elements of ``plan``: the edit acts on all of them, and the user is told how to
    name one."""
    sel = getattr(op, "target", None)
    if not isinstance(sel, Selector) or not sel.bare:
        return
    try:
        found = resolve(plan, sel, many=True)
    except PlanError:
        return      # the operation itself says that nothing matches
    if len(found) > 1:
        ids = ", ".join(e.id for e in found)
        ctx.notes.append(f"{sel.words!r} matched {len(found)} elements ({ids}): the edit "
                         f"'{op.op}' applies to all of them; to change one, say which (e.g. "
                         f"左边的{sel.words} / 左の{sel.words} / 왼쪽 {sel.words}) or give a "
                         f"count (一个{sel.words} / {sel.words}を一つ / {sel.words} 하나)")


class _Context:
    """What a sequence of clauses shares: the elements last touched ("it"), references and
    notes for the user."""

    def __init__(self, references: int = 0, plan: Plan | None = None):
        self.last: list[str] = []
        self.notes: list[str] = []
        self.references = references
        # "this lamp" means a reference the Plan does not use yet (earlier turns' are taken).
        self.used = {e.reference for e in (plan.objects if plan else ())} | {
            plan.canvas.background.reference if plan else None}

    def take_reference(self) -> int | None:
        free = [i for i in range(self.references) if i not in self.used]
        if not free:
            return None
        self.used.add(free[0])
        return free[0]


# --- vocabulary ------------------------------------------------------------------------

_QUOTE_RE = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』|«([^»]+)»'
                       r"|(?<![\w])'([^']+)'(?![\w])|‘([^’]+)’")
_PH_RE = re.compile(r"\x00(\d+)\x00")
VERBS = (
    "add", "put", "place", "insert", "include", "draw", "give", "remove", "delete", "erase",
    "get", "take", "drop", "replace", "swap", "switch", "substitute", "exchange", "change",
    "turn", "make", "color", "colour", "paint", "recolor", "recolour", "move", "shift", "drag",
    "slide", "push", "resize", "enlarge", "shrink", "scale", "grow", "set", "use", "rename",
    "write", "retitle", "let", "show", "have", "title", "caption", "label", "transform",
)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "another": 1, "some": 2,
            "a couple of": 2, "a pair of": 1, "several": 3, "a few": 3}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "1st": 1,
             "2nd": 2, "3rd": 3, "4th": 4, "5th": 5}
_WHICH = {"left": "left", "leftmost": "left", "right": "right", "rightmost": "right",
          "top": "top", "topmost": "top", "upper": "top", "bottom": "bottom", "lower": "bottom",
          "bottommost": "bottom", "middle": "center", "center": "center", "centre": "center",
          "central": "center", "biggest": "largest", "largest": "largest", "smallest": "smallest",
          "tiniest": "smallest"}
_TEXT_NOUNS = {"title": "title", "headline": "title", "heading": "heading", "header": "heading",
               "subtitle": "heading", "subheading": "heading", "caption": "caption",
               "label": "label", "body": "body", "text": None, "words": None, "word": None,
               "slogan": None, "tagline": None, "sign": None, "writing": None, "lettering": None}
_GENERIC = {"character", "subject", "person", "animal", "thing", "object", "item", "figure",
            "creature", "hero", "it", "him", "her", "main"}
_WEARABLE_TOP = {"hat", "cap", "crown", "helmet", "beret", "beanie", "halo", "headband",
                 "bow", "tiara", "wig", "sunglass", "sunglasses", "glasses", "mask", "umbrella"}
_WEARABLE = _WEARABLE_TOP | {"scarf", "collar", "tie", "necklace", "coat", "jacket", "shirt",
                             "sweater", "boot", "boots", "shoe", "shoes", "backpack", "cape",
                             "bowtie", "bandana", "vest", "dress", "medal", "watch"}
# Scene and style words come from the rules planner's lexicon (one vocabulary for prompts and
# edits); these add the weather adjectives and multi-word styles that edits use.
_SCENE_EXTRA = {
    "rainy": "rain", "raining": "rain", "stormy": "rain", "snowing": "snow", "wintry": "snow",
    "snowy": "snow", "starry": "night", "midnight": "night", "sand": "beach", "grass": "field",
    "cloud": "sky", "clouds": "sky", "cloudy": "sky", "indoors": "room", "desk": "table",
    "brick": "wall", "urban": "city", "dunes": "desert", "stars": "space", "reef": "underwater",
    "barn": "farm", "road": "street", "mountain": "mountain", "alps": "mountain",
}
_STYLE_EXTRA = {
    "oil painting": "painting", "pixel art": "pixel", "pixelated": "pixel", "8-bit": "pixel",
    "3d render": "3d", "black and white": "noir", "monochrome": "noir", "grayscale": "noir",
    "pop art": "comic", "low poly": "isometric", "claymation": "3d", "storybook": "cartoon",
    "children's book": "cartoon", "drawing": "sketch", "line art": "line art",
    "comic book": "comic", "photo-realistic": "photo",
}


def _vocab() -> tuple[dict, dict]:
    from planner import lexicon as lx

    scenes = {**_SCENE_EXTRA, **lx.SCENE_WORDS, **lx.SCENE_BARE}
    styles = {**_STYLE_EXTRA, **lx.STYLE_WORDS}
    return scenes, styles


_SCENE_WORDS, _STYLES = _vocab()
_ASPECT_WORDS = {"square": (1, 1), "landscape": (3, 2), "portrait": (2, 3), "wide": (16, 9),
                 "widescreen": (16, 9), "tall": (9, 16), "vertical": (9, 16),
                 "horizontal": (16, 9), "panoramic": (3, 1), "banner": (3, 1)}
_COLOR_ALIASES = {"grey": "gray", "golden": "gold", "navy blue": "navy", "sky blue": "skyblue",
                  "light blue": "lightblue", "dark blue": "darkblue", "light green": "lightgreen",
                  "dark green": "darkgreen", "dark red": "darkred", "light gray": "lightgray",
                  "dark gray": "darkgray", "light grey": "lightgray", "dark grey": "darkgray",
                  "hot pink": "hotpink", "light pink": "lightpink", "dark orange": "darkorange",
                  "sea green": "seagreen", "forest green": "forestgreen", "lime green": "limegreen",
                  "royal blue": "royalblue", "baby blue": "lightblue", "dark purple": "indigo",
                  "light purple": "plum", "blonde": "khaki", "rainbow": "rainbow"}


def _css_names() -> set[str]:
    import webcolors

    return set(webcolors.names("css3"))


_CSS = _css_names()


def _lexicon_colors() -> dict:
    from planner import lexicon as lx

    return {**lx.COLOR_ALIASES, **lx.CJK_COLORS, **lx.KO_COLORS}


_LEXICON_COLORS = _lexicon_colors()


_SHADES = {"dark": -0.35, "deep": -0.3, "light": 0.4, "pale": 0.5, "bright": 0.15}
# Words that describe a colour's mood, not its hue: "warm yellow" is yellow.
_COLOR_MOODS = {"warm", "cool", "soft", "bold", "vivid", "rich", "muted", "vibrant", "strong",
                "nice", "pure", "solid", "plain", "flat", "dusty"}


def color_of(phrase: str) -> str | None:
    """A colour phrase ("dark blue", "#ff8800", "warm yellow", "black and white") → its CSS
    name or hex, else None (for two colours, the first: the main one)."""
    p = " ".join(phrase.lower().split())
    if re.fullmatch(r"#[0-9a-f]{6}|#[0-9a-f]{3}", p):
        return p
    if p in _COLOR_ALIASES:
        return _COLOR_ALIASES[p]
    if _LEXICON_COLORS.get(p):
        return _LEXICON_COLORS[p]
    if p.replace(" ", "") in _CSS and (" " not in p or p.split()[0] in ("light", "dark")):
        return p.replace(" ", "")
    words = p.split()
    if len(words) == 3 and words[1] in ("and", "&") and color_of(words[0]) and color_of(words[2]):
        return color_of(words[0])
    if len(words) == 2 and words[0] in _COLOR_MOODS:
        return color_of(words[1])
    if len(words) == 2 and words[0] in _SHADES and " " not in words[1]:
        base = _rgb(color_of(words[1]))
        if base is not None:
            t = _SHADES[words[0]]
            target = 255 if t > 0 else 0
            return "#" + "".join(f"{round(c + (target - c) * abs(t)):02x}" for c in base)
    return None


def _split_color(words: list[str]) -> tuple[str | None, list[str]]:
    """Take a leading colour (one to three words) off ``words``."""
    for n in (3, 2, 1):
        if len(words) > n - 1 and len(words) >= n:
            c = color_of(" ".join(words[:n]))
            if c and len(words) > n:
                return c, words[n:]
    return None, words


def lemma(word: str) -> str:
    """Singular form of an English noun ("mice" → "mouse"); other words unchanged."""
    w = word.lower()
    if w in ("glasses", "sunglasses", "headphones", "scissors", "pants", "jeans", "trousers",
             "shorts", "binoculars", "goggles", "earphones", "earbuds"):
        return w
    from lemminflect import getLemma

    got = getLemma(w, upos="NOUN")
    return got[-1] if got and w.endswith("ves") else (got[0] if got else w)


def is_plural(word: str) -> bool:
    return lemma(word) != word.lower() or word.lower() in ("both", "all")


def script_of(text: str, hint: str | None = None) -> str:
    """The ISO 15924 code of ``text`` (the rules planner's detector; ``hint`` is the script
    the text had before, which decides Han-only text between Hans, Hant and Jpan)."""
    from planner.rules import detect_script

    return detect_script(text, hint if hint in ("Jpan", "Hant") else None)


# --- clause splitting ------------------------------------------------------------------

def _protect_quotes(text: str) -> tuple[str, list[str]]:
    quoted: list[str] = []

    def keep(m: re.Match) -> str:
        quoted.append(next(g for g in m.groups() if g is not None))
        return f"\x00{len(quoted) - 1}\x00"

    return _QUOTE_RE.sub(keep, text), quoted


def _unprotect(text: str, quoted: list[str]) -> str:
    return _PH_RE.sub(lambda m: '"' + quoted[int(m.group(1))] + '"', text)


_SPLIT_RE = re.compile(r"(\s*;\s*|\s*,?\s+and then\s+|\s*,?\s+then\s+|\s*,\s*and\s+|\s+and\s+"
                       r"|\s*,\s+|\.\s+|\s+also\s+|\s*[，；。、]\s*)", re.IGNORECASE)


def split_clauses(instruction: str, plan: Plan, ctx: "_Context | None" = None) -> list[str]:
    """Split on "and", commas, "then", ";" — only where the next part reads as a clause on
    its own (or as the previous verb applied again: "make the car blue and the dog red").
    Quoted text is never split, and "make the title say SALT AND PEPPER" stays whole."""
    text, quoted = _protect_quotes(instruction.strip().rstrip(".!?"))
    parts = _SPLIT_RE.split(text)
    clauses = [parts[0]]
    for sep, part in zip(parts[1::2], parts[2::2]):
        prev_verb = _leading_verb(clauses[-1])
        if sep.strip() and sep.strip() in "，；。、" and _HAN_RE.search(part):
            clauses.append(part)                         # CJK clauses end at their commas
        elif re.search(r"\bbetween\s+[^,;]+$", clauses[-1], re.IGNORECASE) and \
                sep.strip().lower() == "and" and not _leading_verb(part):
            clauses[-1] = clauses[-1] + sep + part      # "between the cat and the dog"
        elif _leading_verb(part) and (_parses(part, plan, quoted) or not _parses(
                clauses[-1] + sep + part, plan, quoted)):
            clauses.append(part)    # (a verb inside unquoted text: "say CLICK AND DRAW")
        elif prev_verb and part.strip() and _parses(f"{prev_verb} {part}", plan, quoted):
            clauses.append(f"{prev_verb} {part}")
        else:
            clauses[-1] = clauses[-1] + sep + part
    return [_unprotect(c, quoted).strip() for c in clauses if c.strip()]


def _leading_verb(clause: str) -> str | None:
    words = clause.strip().split()
    if not words:
        return None
    first = words[0].lower().strip(",")
    if first in ("please", "now", "also", "and", "then", "can", "could"):
        return _leading_verb(" ".join(w for w in words[1:] if w.lower() not in ("you",)))
    if first in VERBS:
        return first
    if re.match(r"^(the|a|an)\s+\w+(\s+\w+)?\s+should\b", clause.strip(), re.IGNORECASE):
        return "should"
    return None


def _parses(clause: str, plan: Plan, quoted: list[str]) -> bool:
    try:
        parse_clause(_unprotect(clause, quoted), plan, _Context())
    except PlanError:
        return False
    return True


# --- parsing one clause ----------------------------------------------------------------

_LEAD_RE = re.compile(r"^(?:(?:please|now|also|and|then|ok|okay|so|can you|could you|would you|"
                      r"i want you to|i'd like you to|let's)\s*,?\s+)+", re.IGNORECASE)
_TAIL_RE = re.compile(r"\s+(?:please|instead|too|as well|now|for me|again)$", re.IGNORECASE)


def parse_clause(clause: str, plan: Plan, ctx: "_Context") -> list:
    """One clause → its edit operations.

    Raises:
        PlanError: when no rule reads the clause (the message lists what is understood).
    """
    text, quoted = _protect_quotes(clause.strip().rstrip(".!?"))
    text = _TAIL_RE.sub("", _LEAD_RE.sub("", text.strip()))
    # "I want the frog to be orange", "let the cat be bigger" → "make the frog orange".
    text = re.sub(r"^(?:i\s+want|i'd\s+like|i\s+would\s+like|let)\s+((?:the|this|that|all|"
                  r"every|both|it)\b.*?)\s+(?:to\s+be|be)\s+(.+)$", r"make \1 \2", text,
                  flags=re.IGNORECASE)
    for rule in _RULES:
        ops = rule(text, quoted, plan, ctx)
        if ops:
            return ops
    if re.match(r"(?:rotate|flip|mirror|turn\s+around|tilt|spin)\b", text, re.IGNORECASE):
        raise PlanError(f"{clause!r}: a Plan has boxes but no orientation, so elements cannot "
                        "be rotated or flipped yet")
    raise PlanError(
        f"could not understand the edit {clause!r}; say e.g. 'add a red umbrella', "
        "'remove the left apple', 'replace the cat with a dog', 'make the car blue', "
        "'move the cat to the right', 'make the dog bigger', 'make the title say \"SALE\"', "
        "'change the background to a beach', 'make it watercolor', 'make it 16:9'")


def _m(pattern: str, text: str) -> re.Match | None:
    return re.match(pattern + r"$", text, re.IGNORECASE)


def _content(raw: str, quoted: list[str]) -> str:
    """Text to draw: a quoted string verbatim, else the words as typed (trimmed)."""
    m = _PH_RE.search(raw)
    if m:
        return quoted[int(m.group(1))]
    return raw.strip().strip(":").strip().rstrip(".!,")


_TEXT_T = r"(?P<t>(?:the|this|that|its|my|our)\s+[^\x00]*?)"


def _rule_text(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = (_m(r"(?:make|have|let|set|change|update|edit|get)\s+" + _TEXT_T +
            r"\s+(?:to\s+)?(?:say|says|read|reads|show|display|spell)\s+(?P<c>.+)", text)
         or _m(_TEXT_T + r"\s+should\s+(?:say|read|show)\s+(?P<c>.+)", text))
    if m:
        return [SetText(target=_selector(m["t"], quoted, ctx, kind="text"),
                        content=_content(m["c"], quoted))]
    m = _m(r"(?:change|replace|rename|rewrite|edit|update|swap)\s+(?:the\s+(?:text|word|words|"
           r"title|heading|label|caption)\s+)?(?P<old>\x00\d+\x00)\s+(?:to|with|into|as|for)\s+"
           r"(?P<c>.+)", text)
    if m:
        old = _content(m["old"], quoted)
        return [SetText(target=Selector(kind="text", content=old, words=old),
                        content=_content(m["c"], quoted))]
    m = _m(r"(?:change|rename|retitle|set|update|replace|make)\s+(?P<t>(?:the\s+)?(?:[\w-]+\s+)?"
           r"(?:title|heading|headline|caption|text|subtitle|label|slogan|tagline|words|writing)"
           r")(?:\s+text)?\s+(?:to|as|with|into)\s+(?P<c>.+)", text)
    if m and (_PH_RE.search(m["c"]) or not (color_of(m["c"]) or _style_of(m["c"]))):
        return [SetText(target=_selector(m["t"], quoted, ctx, kind="text"),
                        content=_content(m["c"], quoted))]
    m = _m(r"(?P<role>title|caption|label)\s+it\s+(?P<c>.+)", text)
    if m:
        role = m["role"].lower()
        return [SetText(target=Selector(kind="text", role=role, words=f"the {role}"),
                        content=_content(m["c"], quoted))]
    return _rule_add_text(text, quoted)


def _rule_add_text(text: str, quoted: list[str]) -> list | None:
    m = _m(r"(?:add|write|put|include|insert|show|place)\s+(?:an?\s+|the\s+|some\s+)?(?:(?P<pos1>"
           r"(?:big|large|small|bold)\s+))?(?P<role>title|heading|headline|caption|label|subtitle|"
           r"slogan|tagline|text|words?|sign|line)?\s*(?:that\s+says|saying|which\s+says|reading|"
           r"that\s+reads|with\s+the\s+text|:)?\s*(?P<c>\x00\d+\x00)(?P<rest>.*)", text)
    if not m or not (m["role"] or text.split()[0].lower() in ("write", "add", "put", "include")):
        return None
    role_word = (m["role"] or "text").lower()
    role = {"headline": "title", "subtitle": "heading", "slogan": "heading",
            "tagline": "caption", "sign": "title", "line": "body"}.get(role_word, role_word)
    if role not in ("title", "heading", "label", "body", "caption"):
        role = "title"
    content = _content(m["c"], quoted)
    return [AddText(content=content, role=role, position=_position_in(m["rest"]),
                    color=_color_in(m["rest"]))]


def _color_in(text: str) -> str | None:
    m = re.search(r"\bin\s+(?P<c>[#\w]+(?:\s+\w+)?)", text, re.IGNORECASE)
    if m:
        for cand in (m["c"], m["c"].split()[0]):
            if color_of(cand):
                return color_of(cand)
    return None


_POS_RE = re.compile(
    r"\b(?:(?:to|on|at|in|into|onto|toward|towards)\s+)?(?:the\s+)?"
    r"(?P<p>top[\s-]left|top[\s-]right|"
    r"bottom[\s-]left|bottom[\s-]right|upper[\s-]left|upper[\s-]right|lower[\s-]left|"
    r"lower[\s-]right|left|right|top|bottom|middle|center|centre)\b(?:\s+(?:side|corner|edge|"
    r"half|part|of\s+the\s+(?:image|picture|canvas|poster|scene|frame)))?", re.IGNORECASE)


def _position_in(text: str) -> str | None:
    """ "on the left", "in the top right corner" → a scene Position."""
    m = _POS_RE.search(text or "")
    if not m:
        return None
    p = m["p"].lower().replace("-", " ").replace("upper", "top").replace("lower", "bottom")
    return {"middle": "center", "centre": "center"}.get(p, p)


def _rule_canvas(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    if not re.match(r"(?:make|change|set|resize|crop|convert|turn|switch|reformat|render|"
                    r"use|go)\b", text, re.IGNORECASE):
        return None
    m = re.search(r"\b(\d{1,2})\s*[:/]\s*(\d{1,2})\b", text)
    if m:
        return [SetCanvas(aspect=(int(m.group(1)), int(m.group(2))))]
    m = re.search(r"\b(\d{2,4})\s*[x×]\s*(\d{2,4})\b", text)
    if m:
        return [SetCanvas(width=int(m.group(1)), height=int(m.group(2)))]
    subject = re.match(r"\w+\s+(?:it|the\s+(?:image|picture|canvas|aspect|ratio|format|size|"
                       r"photo|poster|frame|output))\b", text, re.IGNORECASE)
    if not subject:
        return None
    m = re.search(r"\b(" + "|".join(_ASPECT_WORDS) + r")\b", text, re.IGNORECASE)
    if m and not re.search(r"\bbackground\b", text, re.IGNORECASE):
        return [SetCanvas(aspect=_ASPECT_WORDS[m.group(1).lower()])]
    return None


def _style_of(phrase: str) -> Style | None:
    """ "like a watercolor painting", "pixel art", "in the style of ukiyo-e" → a Style."""
    p = " ".join(phrase.lower().replace("-style", " style").split())
    p = re.sub(r"^(?:(?:an?|the|in|into|to|like|as|look|looking|more)\s+)+", "", p)
    if p.startswith("the style of ") or p.startswith("style of "):
        return Style(text=p)
    core = re.sub(r"\s+(?:style|look|version|illustration|image|picture|painting|drawing|"
                  r"render|rendering)$", "", p)
    for cand in (p, core):
        if cand in _STYLES:
            return Style(text=p, preset=_STYLES[cand])
    # A known style word inside a longer phrase ("a soft watercolor painting").
    for key in sorted(_STYLES, key=len, reverse=True):
        if re.search(r"(?<![\w-])" + re.escape(key) + r"(?![\w-])", core):
            return Style(text=p, preset=_STYLES[key])
    return None


def _rule_style(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = (_m(r"(?:make|render|redo|draw|turn|change|convert|restyle|do|paint)\s+(?:it|the\s+image|"
            r"the\s+picture|everything|the\s+whole\s+thing|this)\s+(?:look\s+)?(?P<s>.+)", text)
         or _m(r"(?:change|set|switch)\s+the\s+(?:art\s+)?style\s+(?:to|into)\s+(?P<s>.+)", text)
         or _m(r"(?:use|try|apply)\s+(?:an?\s+)?(?P<s>.+?)\s+style", text)
         or _m(r"(?:make|redo|render|draw)\s+it\s+(?P<s>in\s+the\s+style\s+of\s+.+)", text))
    if not m:
        return None
    style = _style_of(m["s"])
    return [SetStyle(style=style)] if style else None


def _background_of(phrase: str) -> Background | None:
    """ "rainy weather", "a sunset", "dark blue", "transparent", "a gradient from red to
    blue" → a Background (None when nothing in it is known)."""
    p = " ".join(phrase.lower().strip().rstrip(".").split())
    p = re.sub(r"^(?:an?|the|some|into|to|be|with)\s+", "", p)
    p = re.sub(r"\s+(?:background|backdrop|setting|scene|one)$", "", p)
    if p in ("transparent", "clear", "see-through", "none", "nothing", "removed"):
        return Background(kind="transparent")
    g = re.match(r"(?:(?:a\s+)?gradient\s+(?:from\s+)?)?([#\w ]+?)\s+(?:to|and|into)\s+([#\w ]+?)"
                 r"(?:\s+gradient)?$", p)
    if g and color_of(g.group(1)) and color_of(g.group(2)) and "gradient" in phrase.lower():
        return Background(kind="gradient", colors=(color_of(g.group(1)), color_of(g.group(2))),
                          description=phrase.strip())
    if color_of(p) or color_of(re.sub(r"^(?:plain|solid|flat)\s+", "", p)):
        return Background(kind="color", color=color_of(p) or color_of(p.split(None, 1)[1]))
    words = re.findall(r"[\w-]+", p)
    scene = next((_SCENE_WORDS[w] for w in words if w in _SCENE_WORDS), None)
    if scene is None:
        return None
    tint = next((color_of(w) for w in words if color_of(w)), None)
    return Background(kind="scene", scene=scene, color=tint, description=phrase.strip())


def _background_reference(text: str, m: re.Match | None, ctx: _Context) -> int | None:
    """ "use reference 2 as the background", "set the background to the first image"."""
    if not ctx.references:
        return None
    u = _m(r"(?:use|make|set|put)\s+(?P<b>.+?)\s+(?:as|for|to\s+be)?\s*(?:the\s+)?"
           r"(?:background|backdrop)", text)
    phrase = u["b"] if u else (m["b"] if m and m.groupdict().get("b") else None)
    if not phrase:
        return None
    if re.fullmatch(r"(?:this|that|the\s+reference)(?:\s+(?:image|picture|photo|one))?", phrase,
                    re.IGNORECASE):
        return ctx.take_reference()
    ref, rest = _reference_in(phrase, ctx)
    return ref if ref is not None and not rest.strip(" ,") else None


def _rule_background(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    bg_noun = r"(?:background|backdrop|scene|setting|sky|weather|surroundings|environment)"
    if _m(r"(?:remove|delete|drop|erase|clear|cut\s+out|get\s+rid\s+of)\s+the\s+" + bg_noun,
          text):
        return [SetBackground(background=Background(kind="transparent"))]
    m = (_m(r"(?:change|make|set|turn|switch|replace|update|swap)\s+the\s+" + bg_noun +
            r"(?:\s+colou?r)?\s+(?:to|into|with|as|for)?\s*(?P<b>.+)", text)
         or _m(r"(?:put|place|set|move)\s+(?:it|everything|the\s+scene|them|this)\s+(?:on|in|at|"
               r"into|onto|against)\s+(?P<b>.+)", text)
         or _m(r"(?:use|give\s+it|add|set|apply|pick)\s+(?P<b>.+?(?<!\sthe))\s+"
               r"(?:background|backdrop)", text)
         or _m(r"(?:make|turn)\s+it\s+(?P<it>.+)", text)
         or _m(r"(?:the\s+)?" + bg_noun + r"\s+should\s+be\s+(?P<b>.+)", text))
    ref = _background_reference(text, m, ctx)
    if ref is not None:
        return [SetBackground(background=Background(kind="color", reference=ref,
                                                    description=f"reference {ref + 1}"))]
    if not m:
        return None
    if "it" in m.groupdict() and m["it"] is not None:
        # "make it rainy" is the weather; "make it blue" is the thing last named.
        bg = _background_of(m["it"])
        return [SetBackground(background=bg)] if bg and bg.kind == "scene" else None
    bg = _background_of(m["b"])
    if bg is None and re.search(bg_noun, text[:40], re.IGNORECASE):
        known = ", ".join(sorted(set(_SCENE_WORDS.values())))
        raise PlanError(f"background {m['b']!r} is not one the rules know: say a colour, "
                        f"'transparent', 'a gradient from red to blue', or a scene: {known}")
    return [SetBackground(background=bg)] if bg else None


# --- noun phrases ----------------------------------------------------------------------

_ARTICLES = {"the", "a", "an", "this", "that", "these", "those", "my", "our", "its", "his",
             "her", "their", "your", "of"}
_ALL_WORDS = {"all", "every", "each", "both"}
_PRONOUNS = {"it", "them", "they", "one", "ones", "him", "her", "itself", "this", "that"}
_POSTFIX_RE = re.compile(
    r"\s+(?:(?:that|which)\s+(?:is|are)\s+|that's\s+)?(?:on|at|in|to|from)\s+the\s+(?P<p>left|"
    r"right|top|bottom|middle|center|centre)(?:\s+(?:side|corner|edge))?$", re.IGNORECASE)


def _selector(phrase: str, quoted: list[str], ctx: _Context, kind: str = "any") -> Selector:
    """ "the second red apple", "all the apples", "the cat on the left", "the title", "it",
    "the text 'SALE'" → a Selector."""
    words_in = _unprotect(phrase, quoted).strip()
    m = _PH_RE.search(phrase)
    if m:
        return Selector(kind="text", content=quoted[int(m.group(1))], words=words_in)
    which, ordinal, from_right = None, None, False
    post = _POSTFIX_RE.search(phrase)
    if post:
        phrase = phrase[:post.start()]
        p = post["p"].lower()
        if post.group(0).strip().lower().startswith("from"):
            from_right = p == "right"
        else:
            which = _WHICH.get(p, "center")
    words = [w for w in re.findall(r"[\w'#-]+", phrase.lower()) if w != "of"]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    if words and words[0] in ("a", "an", "one", "any", "some") and which is None:
        which = "any"       # "remove a star", "remove one of the stars": one, not all
        words = words[1:]
    if words and words[0] in _ALL_WORDS:
        which = "all"
    words = [w for w in words if w not in _ALL_WORDS and w not in _ARTICLES
             and w not in ("font", "typeface", "lettering", "letters")]
    if words in (["everything"], ["elements"], ["objects"], ["things"]) or (
            which == "all" and not words):
        return Selector(which="all", words=words_in)
    if len(words) > 1 and words[-1] == "text" and words[-2] in _TEXT_NOUNS:
        words = words[:-1]          # "the title text" is the title
    if words and (words[0] in _ORDINALS or re.fullmatch(r"\d+(?:st|nd|rd|th)", words[0])):
        ordinal = _ORDINALS.get(words[0]) or int(re.match(r"\d+", words[0]).group())
        words = words[1:]
    if words and words[0] in _NUMBERS and words[0] not in ("a", "an") and len(words) > 1:
        which, words = "all", words[1:]
    while words and words[0] in _WHICH and len(words) > 1:
        which, words = _WHICH[words.pop(0)], words
    color, words = _split_color(words)
    if ordinal is not None and from_right:
        ordinal = -ordinal
    return _selector_noun(words, kind, which, ordinal, color, ctx, words_in)


def _selector_noun(words: list[str], kind: str, which, ordinal, color, ctx: _Context,
                   said: str) -> Selector:
    head = words[-1] if words else ""
    if not words or (len(words) == 1 and head in _PRONOUNS):
        if ctx.last and ordinal is None and which is None:
            return Selector(ids=tuple(ctx.last), words=said)
        return Selector(kind=kind, which=which, ordinal=ordinal, color=color, words=said)
    if head in _TEXT_NOUNS and kind != "object":
        role = _TEXT_NOUNS[head]
        if len(words) > 1 and words[-2] in ("title", "heading", "caption", "label"):
            role = _TEXT_NOUNS[words[-2]]
        return Selector(kind="text", role=role, which=which, ordinal=ordinal, color=color,
                        words=said)
    if head in _GENERIC:
        return Selector(kind="object", which=which or "main", ordinal=ordinal, color=color,
                        words=said)
    plural = is_plural(head)
    if plural and which is None and ordinal is None:
        which = "all"
    label = " ".join(words[:-1] + [lemma(head)])
    return Selector(kind="object" if kind == "any" else kind, label=label, which=which,
                    ordinal=ordinal, color=color, words=said)


def _object_phrase(phrase: str) -> dict | None:
    """ "three small red umbrellas" → {count, size, color, label}; None if no noun."""
    p = " ".join(phrase.lower().split())
    count = 1
    for words, n in sorted(_NUMBERS.items(), key=lambda kv: -len(kv[0])):
        if p.startswith(words + " "):
            count, p = n, p[len(words) + 1:]
            break
    else:
        m = re.match(r"(\d+)\s+", p)
        if m:
            count, p = int(m.group(1)), p[m.end():]
    p = re.sub(r"^(?:the|this|these|that|those|more|extra|new|other)\s+", "", p)
    words = re.findall(r"[\w'#-]+", p)
    size = None
    if words and words[0] in ("small", "tiny", "little", "big", "large", "huge", "giant"):
        size = "small" if words[0] in ("small", "tiny", "little") else "large"
        words = words[1:]
    color, words = _split_color(words)
    if words and words[0] in ("small", "tiny", "little", "big", "large", "huge", "giant"):
        size = "small" if words[0] in ("small", "tiny", "little") else "large"
        words = words[1:]
    if not words or words[-1] in _PRONOUNS or words[-1] in _ARTICLES:
        return None
    label = " ".join(words[:-1] + [lemma(words[-1]) if count > 1 or is_plural(words[-1])
                                   and words[-1] not in ("glasses", "sunglasses") else words[-1]])
    return {"count": min(count, 20), "size": size, "color": color, "label": label}


_REL_RE = re.compile(
    r"\s+(?P<rel>to\s+the\s+left\s+of|to\s+the\s+right\s+of|left\s+of|right\s+of|on\s+top\s+of|"
    r"above|over|below|beneath|underneath|under|next\s+to|beside|by|near|alongside|on|onto|"
    r"in\s+front\s+of|behind|between|around|inside|in|for|to|with|wearing|holding)\s+"
    r"(?P<a>(?:the|a|an|this|that|its|his|her|their|my|it|him|them)\b.*)$", re.IGNORECASE)
_REL_MAP = {"to the left of": "left of", "to the right of": "right of", "on top of": "on",
            "over": "above", "beneath": "below", "underneath": "under", "beside": "beside",
            "by": "next to", "near": "next to", "alongside": "next to", "onto": "on",
            "inside": "in"}


def _relation_in(phrase: str, quoted: list[str], ctx: _Context, label: str
                 ) -> tuple[str, str | None, Selector | None, Selector | None]:
    """Split "a hat for the cat" into ("a hat", relation, anchor, second anchor); the second
    anchor is only for "between the cat and the dog"."""
    m = _REL_RE.search(" " + phrase)
    if not m or _position_in(m.group(0)) and re.fullmatch(
            r"\s*(?:on|in|at|to)\s+the\s+\w+(?:\s+\w+)?(?:\s+(?:side|corner|edge))?", m.group(0)):
        return phrase, None, None, None
    rel = " ".join(m["rel"].lower().split())
    rel = _REL_MAP.get(rel, rel)
    if rel in ("for", "to", "with", "holding", "wearing", "on"):
        if label.split()[-1] in _WEARABLE:
            rel = "wearing"
        elif rel != "on":
            rel = "holding"
    head = (" " + phrase)[:m.start()].strip()
    if rel == "between":
        two = re.split(r"\s+and\s+", m["a"], maxsplit=1)
        if len(two) == 2:
            return head, rel, _selector(two[0], quoted, ctx), _selector(two[1], quoted, ctx)
    return head, rel, _selector(m["a"], quoted, ctx), None


# --- the object verbs ------------------------------------------------------------------

_T = r"(?P<t>.+?)"


def _rule_remove(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = _m(r"(?:remove|delete|erase|drop|get\s+rid\s+of|take\s+out|take\s+away|take\s+off|"
           r"eliminate|lose|hide|cut|clear)\s+" + _T +
           r"(?:\s+(?:from|off|out\s+of)\s+(?:the\s+)?(?:image|picture|scene|poster|photo|"
           r"canvas|frame))?", text)
    if not m:
        return None
    but = re.match(r"(?:everything|all(?:\s+the\s+(?:objects|things|elements))?|all\s+else)\s+"
                   r"(?:except(?:\s+for)?|but|apart\s+from|other\s+than|besides)\s+(?P<k>.+)$",
                   m["t"], re.IGNORECASE)
    if but:
        return [Remove(target=Selector(which="all", words="everything"),
                       keep=_selector(but["k"], quoted, ctx))]
    return [Remove(target=_selector(m["t"], quoted, ctx))]


def _rule_swap(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = _m(r"(?:swap|switch|exchange|trade)\s+(?:the\s+(?:places|positions|spots)\s+of\s+)?"
           r"(?P<a>.+?)\s+and\s+(?P<b>.+?)(?:'s?)?(?:\s+(?:places|positions|around|over))?", text)
    if not m:
        return None
    return [Swap(first=_selector(m["a"], quoted, ctx), second=_selector(m["b"], quoted, ctx))]


def _tail_split(rest: str, judge, longest: int = 4) -> tuple[str, str] | None:
    """Split "the big red car dark blue" into (target, tail) where ``judge(tail)`` holds,
    trying the longest tail first."""
    words = rest.split()
    for k in range(min(longest, len(words) - 1), 0, -1):
        tail = " ".join(words[-k:])
        if judge(tail):
            return " ".join(words[:-k]), tail
    return None


_RECOLOR_FILL = re.compile(r"\s+(?:to|into|in|be|to\s+be|the\s+colou?r|colou?r)$", re.IGNORECASE)


def _rule_recolor(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = (_m(r"(?:change|set|make|turn)\s+the\s+colou?r\s+of\s+" + _T +
            r"\s+(?:to|into)\s+(?P<c>.+)", text)
         or _m(r"(?:change|set|make|turn)\s+" + _T + r"(?:'s)?\s+colou?r\s+(?:to|into)\s+(?P<c>.+)",
               text))
    if m and color_of(m["c"]):
        return [Recolor(target=_selector(m["t"], quoted, ctx), color=color_of(m["c"]))]
    m = (_m(r"(?:make|turn|paint|color|colour|recolor|recolour|change|dye|tint|switch)\s+"
            r"(?P<rest>.+?)(?:\s+colou?r(?:ed)?)?", text)
         or _m(r"(?P<rest>(?:the|this|that|its|all|every)\s+.+?)\s+should\s+be\s+(?P<c>.+)", text))
    if not m:
        return None
    rest = m["rest"] + (" " + m["c"] if "c" in m.groupdict() and m["c"] else "")
    split = _tail_split(rest, color_of, 3)
    if not split:
        return None
    target = _RECOLOR_FILL.sub("", split[0]).strip()
    if not target:
        return None
    return [Recolor(target=_selector(target, quoted, ctx), color=color_of(split[1]))]


def _rule_replace(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = (_m(r"(?:replace|swap|switch|substitute|exchange)\s+(?:out\s+)?" + _T +
            r"\s+(?:with|for|by)\s+(?P<n>.+)", text)
         or _m(r"(?:change|turn|transform|make|convert)\s+" + _T + r"\s+(?:into|to)\s+(?P<n>.+)",
               text)
         or _m(r"make\s+(?P<t>(?:the|that|this|it)\b.*?)\s+(?P<n>(?:a|an)\s+.+)", text)
         or _m(r"(?:use|put)\s+(?P<n>.+?)\s+instead\s+of\s+" + _T, text))
    if not m:
        return None
    if _PH_RE.search(m["n"]):
        return [SetText(target=_selector(m["t"], quoted, ctx, kind="text"),
                        content=_content(m["n"], quoted))]
    ref, noun = _reference_in(m["n"], ctx)
    new = _object_phrase(noun)
    if new is None:
        return None
    target = _selector(m["t"], quoted, ctx)
    if target.label and lemma(target.label.split()[-1]) == lemma(new["label"].split()[-1]) \
            and ref is None:
        # "change the rocket to a blue rocket": the same subject, recoloured.
        return [Recolor(target=target, color=new["color"])] if new["color"] else None
    return [Replace(target=target, label=new["label"], color=new["color"], reference=ref)]


_REF_RE = re.compile(r"\s*(?:from|in|like|as\s+in|shown\s+in)?\s*(?:the\s+)?(?:(?P<o>first|second|"
                     r"third|fourth|fifth|last)\s+)?(?:reference|ref|image|picture|photo)"
                     r"(?:\s+image)?(?:\s+#?(?P<n>\d+))?", re.IGNORECASE)


def _reference_in(phrase: str, ctx: _Context) -> tuple[int | None, str]:
    """ "the dog from reference 2" → (1, "the dog"); "this lamp" → (next unused, "lamp")."""
    m = _REF_RE.search(phrase)
    if m and ctx.references and m.end() == len(phrase.rstrip()) and (m["n"] or m["o"]):
        n = int(m["n"]) if m["n"] else _ORDINALS[m["o"].lower()]
        idx = ctx.references - 1 if n == -1 else n - 1
        if not 0 <= idx < ctx.references:
            raise PlanError(f"{m.group(0).strip()!r}: there are {ctx.references} references "
                            f"(1 to {ctx.references})")
        return idx, phrase[:m.start()].strip()
    if re.match(r"(?:this|these)\b", phrase.strip(), re.IGNORECASE) and ctx.references:
        return ctx.take_reference(), phrase
    return None, phrase


_SIZE_WORDS = {"bigger": 1.4, "larger": 1.4, "big": 1.4, "large": 1.4, "taller": 1.3,
               "wider": 1.3, "huge": 1.9, "giant": 1.9, "enormous": 2.0, "smaller": 0.7,
               "small": 0.7, "tiny": 0.45, "little": 0.7, "shorter": 0.75, "narrower": 0.75}
_SIZE_ADVERBS = {"much": 1.6, "a lot": 1.6, "way": 1.6, "even": 1.3, "a bit": 0.45,
                 "slightly": 0.45, "a little": 0.45, "a little bit": 0.4, "somewhat": 0.6}


def _factor(how: str) -> float | None:
    h = " ".join(how.lower().split())
    m = re.match(r"(\d+(?:\.\d+)?)\s*%\s*(bigger|larger|smaller)", h)
    if m:
        pct = float(m.group(1)) / 100
        return 1 + pct if m.group(2) != "smaller" else max(0.1, 1 - pct)
    m = re.match(r"(twice|double|two times|three times|triple|half)\s*(?:as\s+(?:big|large)|"
                 r"the\s+size|bigger|larger|as\s+small)?", h)
    if m and m.group(0).strip():
        return {"twice": 2.0, "double": 2.0, "two times": 2.0, "three times": 3.0,
                "triple": 3.0, "half": 0.5}[m.group(1)]
    adv = 1.0
    for a in sorted(_SIZE_ADVERBS, key=len, reverse=True):
        if h.startswith(a + " "):
            adv, h = _SIZE_ADVERBS[a], h[len(a) + 1:]
            break
    base = _SIZE_WORDS.get(h)
    return None if base is None else base ** adv


def _rule_resize(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = _m(r"(?:make|scale|resize|have|get)\s+(?P<rest>.+)", text)
    split = m and _tail_split(re.sub(r"\s+than\s+before$|\s+than\s+it\s+is$", "", m["rest"]),
                              _factor, 4)
    if split:
        return [Resize(target=_selector(split[0], quoted, ctx), factor=_factor(split[1]))]
    m = _m(r"(?P<v>enlarge|grow|expand|upscale|shrink|reduce|scale\s+up|scale\s+down|"
           r"double\s+the\s+size\s+of|halve\s+the\s+size\s+of|increase\s+the\s+size\s+of|"
           r"decrease\s+the\s+size\s+of)\s+" + _T + r"(?:\s+by\s+(?P<pct>\d+)\s*%)?"
           r"(?:\s+(?P<adv>a\s+bit|slightly|a\s+little|a\s+lot))?", text)
    if not m:
        return None
    v = " ".join(m["v"].lower().split())
    grow = v.startswith(("enlarge", "grow", "expand", "upscale", "scale up", "double",
                         "increase"))
    factor = {"double the size of": 2.0, "halve the size of": 0.5}.get(v, 1.4 if grow else 0.7)
    if m["pct"]:
        pct = float(m["pct"]) / 100
        factor = 1 + pct if grow else max(0.1, 1 - pct)
    elif m["adv"]:
        factor = factor ** _SIZE_ADVERBS[" ".join(m["adv"].lower().split())]
    return [Resize(target=_selector(m["t"], quoted, ctx), factor=factor)]


_SHIFT = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "upward": (0, -1), "upwards": (0, -1),
          "higher": (0, -1), "down": (0, 1), "downward": (0, 1), "downwards": (0, 1),
          "lower": (0, 1)}


def _rule_move(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = _m(r"(?P<v>move|shift|drag|slide|push|put|place|position|reposition|bring|nudge)\s+" + _T +
           r"\s+(?P<w>(?:a\s+(?:bit|little)\s+|slightly\s+|further\s+|more\s+|way\s+)?"
           r"(?:to|towards|"
           r"toward|into|on|onto|in|at|over|under|up|down|left|right|above|below|next|beside|"
           r"behind|higher|lower|upwards?|downwards?|near|by|closer|between)\b.*)", text)
    if not m:
        return None
    target = _selector(m["t"], quoted, ctx)
    if m["v"].lower() in ("put", "place") and not _exists(plan, target):
        return None  # "put a hat on the cat" adds
    where = m["w"].lower()
    small = re.match(r"(?:a\s+(?:bit|little)|slightly)\s+", where)
    core = re.sub(r"^(?:a\s+(?:bit|little)|slightly|further|more|way)\s+", "", where)
    core = re.sub(r"\s+(?:a\s+(?:bit|little)|slightly|some(?:what)?)$", "", core)
    bare = re.fullmatch(r"(?:to\s+the\s+)?(left|right|up|down|upwards?|downwards?|higher|lower)",
                        core)
    if bare and (small or not core.startswith("to the")):
        dx, dy = _SHIFT[bare.group(1)]
        step = 0.08 if small or re.search(r"(?:bit|little|slightly)$", where) else 0.18
        return [Move(target=target, dx=dx * step, dy=dy * step)]
    head, rel, anchor, anchor2 = _relation_in("x " + m["w"], quoted, ctx, "x")
    if rel and anchor is not None:
        rel = "next to" if rel in ("holding", "wearing") else rel
        return [Move(target=target, relation=rel, anchor=anchor, anchor2=anchor2)]
    pos = _position_in(m["w"])
    return [Move(target=target, position=pos)] if pos else None


def _exists(plan: Plan, sel: Selector) -> bool:
    try:
        return bool(resolve(plan, sel, many=True))
    except PlanError:
        return False


def _rule_add(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    m = _m(r"give\s+(?P<a>.+?)\s+(?P<np>(?:a|an|some|two|three|\d+)\s+.+)", text)
    if m:
        ref, noun = _reference_in(m["np"], ctx)
        obj = _object_phrase(noun)
        if not obj:
            return None
        rel = "wearing" if obj["label"].split()[-1] in _WEARABLE else "holding"
        return [AddObject(**obj, relation=rel, anchor=_selector(m["a"], quoted, ctx),
                          reference=ref)]
    m = _m(r"(?:add|put|place|insert|include|draw|show|there\s+should\s+be|i\s+want|let\s+there"
           r"\s+be)\s+(?:in\s+)?(?P<np>.+)", text)
    if not m:
        return None
    np_text = m["np"]
    pos = None
    says = re.search(r"\s+(?:(?:that|which)\s+(?:says|reads)|saying|reading|labell?ed|"
                     r"with\s+the\s+(?:text|words?))\s*:?\s*(?P<q>\x00\d+\x00)", np_text,
                     re.IGNORECASE)
    words_on = _content(says["q"], quoted) if says else None
    if says:
        np_text = np_text[:says.start()] + np_text[says.end():]
    sky = re.search(r"\s+(?:in|into)\s+the\s+(?:sky|air|background|distance)$|"
                    r"\s+(?:on)\s+the\s+(?:ground|floor)$", np_text, re.IGNORECASE)
    if sky:
        pos = "bottom" if re.search(r"ground|floor", sky.group(0), re.IGNORECASE) else "top"
        np_text = np_text[:sky.start()]
    pm = re.search(r"\s+(?:on|at|in|to|into)\s+the\s+(?:top|bottom|upper|lower)?[\s-]?(?:left|"
                   r"right|top|bottom|middle|center|centre)(?:\s+(?:side|corner|edge|half|part))?"
                   r"(?:\s+of\s+the\s+(?:image|picture|canvas|poster|scene|frame|photo))?$",
                   np_text, re.IGNORECASE)
    if pm and pos is None:
        pos, np_text = _position_in(pm.group(0)), np_text[:pm.start()]
    first = _object_phrase(re.split(r"\s+(?:to|for|on|above|below|next|beside|under|over|near|"
                                    r"behind|in|by|with|wearing|holding|left|right)\b",
                                    np_text, maxsplit=1)[0])
    if first is None:
        return None
    head, rel, anchor, anchor2 = _relation_in(np_text, quoted, ctx, first["label"])
    ref, head = _reference_in(head, ctx)
    obj = _object_phrase(head)
    if obj is None:
        return None
    add = AddObject(**obj, position=pos, relation=rel, anchor=anchor, anchor2=anchor2,
                    reference=ref)
    if words_on is None:
        return [add]
    # "a price tag that says "$3"": the thing, then its words written on it.
    return [add, AddText(content=words_on, role="label", on=Selector(last=True, words="it"))]


# --- Chinese and Japanese instructions -----------------------------------------------------
# The same operations, read from the common sentence shapes; noun phrases ("左边的苹果",
# "赤い傘", "两只鸟") are read by the rules planner's own CJK reader (planner.rules.understand).

_HAN_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")
_ZH_TO = r"(?:改成|改为|改為|换成|換成|变成|變成|替换成|替换为|涂成|染成|设为|设置为|調成|调成)"
_CJK_TEXT = {"标题": "title", "標題": "title", "大标题": "title", "タイトル": "title",
             "제목": "title", "글자": None, "문구": None, "텍스트": None,
             "见出し": "heading", "見出し": "heading", "副标题": "heading", "文字": None,
             "文本": None, "字": None, "テキスト": None, "标语": None, "キャプション": "caption"}
_CJK_BG = ("背景", "背景色", "背景颜色", "背景顏色", "배경", "배경색")
_CJK_POS = {"左": "left", "右": "right", "上": "top", "下": "bottom", "中": "center",
            "顶": "top", "底": "bottom", "真ん中": "center", "中央": "center"}
_CJK_ALL = ("所有", "全部", "都", "全て", "すべて", "全部の")
# "one" before or after the noun: 一个/一只/一颗…, 一つ/ひとつ/1つ/一個/一匹, 하나/한 개/한 마리
_CJK_ONE = re.compile(r"^(?:一|1)\s*(?:个|個|只|隻|颗|顆|朵|张|張|把|件|条|條|本|匹|头|頭|台|枚|辆|輛)"
                      r"(?:的)?|(?:を)?(?:一つ|ひとつ|1つ|一個|一匹|一本|一枚|一台)$"
                      r"|^한\s*(?:개|마리|대|장|송이)(?:의)?\s*|\s*(?:하나|한\s*(?:개|마리|대|장|송이))$")


def _cjk_position(phrase: str) -> str | None:
    """ "左边", "右上角", "顶部", "左側" → a scene Position."""
    p = re.sub(r"[边邊侧側面方部角端にへ的]", "", phrase).strip()
    if p in ("左上", "上左"):
        return "top left"
    if p in ("右上", "上右"):
        return "top right"
    if p in ("左下", "下左"):
        return "bottom left"
    if p in ("右下", "下右"):
        return "bottom right"
    return _CJK_POS.get(p)


def _cjk_color(phrase: str) -> str | None:
    p = re.sub(r"(?:的|に|く|色に)$", "", phrase.strip())
    return _LEXICON_COLORS.get(p) or _LEXICON_COLORS.get(p + "色") or color_of(p)


def _cjk_target(phrase: str, quoted: list[str], ctx: _Context) -> Selector:
    """ "左边的苹果", "标题", "所有的鸟", "「SALE」" → a Selector."""
    from planner.rules import understand

    p = phrase.strip()
    m = _PH_RE.fullmatch(p)
    if m:
        return Selector(kind="text", content=quoted[int(m.group(1))], words=p)
    if p in _CJK_TEXT:
        return Selector(kind="text", role=_CJK_TEXT[p], words=p)
    every = any(p.startswith(w) for w in _CJK_ALL)
    one = _CJK_ONE.search(p)
    scene = understand(_CJK_ONE.sub("", p) if one else p)
    if not scene.entities:
        raise PlanError(f"{phrase!r} names nothing the rules know")
    ent = scene.entities[0]
    which = "all" if every or ent.count > 1 else (
        ent.position if ent.position in ("left", "right", "top", "bottom", "center") else None)
    if which is None and one:
        which = "any"       # "一个苹果", "りんごを一つ", "사과 하나": one of them, as "an apple"
    # No article in these languages: a bare "苹果" is every apple there is ("the apples"),
    # not an ambiguous "the apple"; a note says so when there are several.
    bare = which is None
    return Selector(kind="object", label=ent.label, color=ent.color,
                    which="all" if bare else which, words=p, bare=bare)


def _cjk_new(phrase: str) -> dict | None:
    from planner.rules import understand

    ents = understand(phrase.strip()).entities
    if not ents:
        return None
    e = ents[0]
    return {"label": e.label, "count": min(e.count, 20), "color": e.color}


def _cjk_background(phrase: str) -> Background | None:
    from planner.rules import understand

    color = _cjk_color(phrase)
    if color:
        return Background(kind="color", color=color)
    if phrase.strip() in ("透明", "透明的"):
        return Background(kind="transparent")
    bg = understand(phrase.strip()).background
    return bg.model_copy(update={"description": phrase.strip()}) if bg else None


def _cjk_change(t: str, n: str, quoted: list[str], ctx: _Context) -> list | None:
    """ "把 T 改成 N" / "T を N にして": background, text, colour or a new object."""
    if t.strip() in _CJK_BG:
        bg = _cjk_background(n)
        return [SetBackground(background=bg)] if bg else None
    target = _cjk_target(t, quoted, ctx)
    if _PH_RE.search(n) or (target.kind == "text" and not _cjk_color(n)):
        return [SetText(target=target, content=_content(n, quoted))]
    if _cjk_color(n):
        return [Recolor(target=target, color=_cjk_color(n))]
    style = _cjk_style(n)
    if style:
        return None
    new = _cjk_new(n)
    return [Replace(target=target, label=new["label"], color=new["color"])] if new else None


def _cjk_style(phrase: str) -> Style | None:
    from planner import lexicon as lx

    for word, name in lx.CJK_STYLES.items():
        if word in phrase:
            return Style(text=phrase.strip(), preset=name)
    return None


def _rule_cjk(text: str, quoted: list[str], plan: Plan, ctx: _Context) -> list | None:
    if not _HAN_RE.search(_PH_RE.sub("", text)):
        return None
    t = re.sub(r"^(?:然后|然後|并且|並且|还有|還有|另外|请|請|帮我|幫我|麻烦|再|そして|また|次に)+",
               "", text.strip())
    t = re.sub(r"(?:吧|一下|ください|下さい)$", "", t).strip()
    t = re.sub(r"(?:해\s*줘|해\s*주세요|하세요|해요|줘|주세요)$", "", t).strip()
    for rule in (_cjk_canvas_style, _cjk_remove, _cjk_move_resize, _cjk_add, _cjk_changes,
                 _korean):
        ops = rule(t, quoted, ctx)
        if ops:
            return ops
    return None


def _cjk_canvas_style(t: str, quoted: list[str], ctx: _Context) -> list | None:
    m = re.search(r"(\d{1,2})\s*[:：比]\s*(\d{1,2})", t)
    if m and re.search(r"改|变|變|调|調|に|比例", t):
        return [SetCanvas(aspect=(int(m.group(1)), int(m.group(2))))]
    m = re.match(r"^(?:整体|整個|整个|画面|图片|圖片|全体)?(?:改成|变成|變成|换成|改为|を)?(?P<s>.+?)"
                 r"(?:风格|風格|风|スタイル|風)(?:に)?$", t)
    style = _cjk_style(m["s"]) if m else None
    return [SetStyle(style=style)] if style else None


def _cjk_remove(t: str, quoted: list[str], ctx: _Context) -> list | None:
    m = (re.match(r"^(?:删除|删掉|刪除|去掉|去除|移除|拿掉|移走)(?P<t>.+)$", t)
         or re.match(r"^(?:把|将|將)(?P<t>.+?)(?:删除|删掉|刪除|去掉|去除|移除|拿掉|移走)$", t)
         or re.match(r"^(?P<t>.+?)を(?P<q>一つ|ひとつ|1つ|一個|一匹|一本|一枚|一台)?"
                     r"(?:削除|消|消去|取り除|外|除去)", t))
    if not m:
        return None
    if m["t"].strip() in _CJK_BG:
        return [SetBackground(background=Background(kind="transparent"))]
    one = m.groupdict().get("q") or ""      # "りんごを一つ消して": the count after the object
    return [Remove(target=_cjk_target(m["t"] + one, quoted, ctx))]


def _cjk_move_resize(t: str, quoted: list[str], ctx: _Context) -> list | None:
    m = (re.match(r"^(?:把|将|將)(?P<t>.+?)(?:移到|移动到|移動到|放到|挪到|搬到)(?P<w>.+)$", t)
         or re.match(r"^(?P<t>.+?)を(?P<w>.+?)(?:側)?に(?:移動|動か|移し|寄せ)", t))
    if m and _cjk_position(m["w"]):
        return [Move(target=_cjk_target(m["t"], quoted, ctx), position=_cjk_position(m["w"]))]
    m = (re.match(r"^(?:把|将|將)(?P<t>.+?)(?P<v>放大|变大|變大|调大|缩小|縮小|变小|變小|调小)"
                  r"(?:一点|一點|一些|点)?$", t)
         or re.match(r"^(?P<t>.+?)を(?:もっと|少し)?(?P<v>大きく|小さく)", t))
    if not m:
        return None
    grow = m["v"] in ("放大", "变大", "變大", "调大", "大きく")
    return [Resize(target=_cjk_target(m["t"], quoted, ctx), factor=1.4 if grow else 0.7)]


def _cjk_add(t: str, quoted: list[str], ctx: _Context) -> list | None:
    m = (re.match(r"^(?:在(?P<p>[^添加放画]+?))?(?:添加|加上|增加|添上|加|放|画|放上)(?:一个|一個)?"
                  r"(?P<n>.+)$", t)
         or re.match(r"^(?:(?P<p>左|右|上|下|中央|真ん中|左上|右上|左下|右下)に)?(?P<n>.+?)を"
                     r"(?:追加|加え|足し|置い|描い|入れ)", t))
    if not m:
        return None
    pos = _cjk_position(m["p"]) if m["p"] else None
    if _PH_RE.search(m["n"]):
        return [AddText(content=_content(m["n"], quoted), position=pos)]
    new = _cjk_new(m["n"])
    return [AddObject(**new, position=pos)] if new else None


def _cjk_changes(t: str, quoted: list[str], ctx: _Context) -> list | None:
    m = (re.match(r"^(?:把|将|將)?(?P<t>.+?)" + _ZH_TO + r"(?P<n>.+)$", t)
         or re.match(r"^(?P<t>.+?)を(?P<n>.+?)(?:に|く)(?:して|変えて|変更|する|変え|塗|$)", t))
    if not m:
        return None
    return _cjk_change(m["t"], m["n"], quoted, ctx)


_KO_OBJ = r"(?P<t>.+?)\s*(?:을|를)\s*"


def _korean(t: str, quoted: list[str], ctx: _Context) -> list | None:
    """Korean: "고양이를 파란색으로 바꿔", "고양이를 지워", "강아지를 추가해",
    "고양이를 오른쪽으로 옮겨", "고양이를 크게 해", "제목을 "봄 세일"로 바꿔"."""
    if re.match(_KO_OBJ + r"(?:삭제|지워|없애|빼)", t):
        m = re.match(_KO_OBJ, t)
        if m["t"].strip() in _CJK_BG:
            return [SetBackground(background=Background(kind="transparent"))]
        return [Remove(target=_cjk_target(m["t"], quoted, ctx))]
    m = re.match(_KO_OBJ + r"(?P<w>\S+?)\s*(?:으로|로)\s*(?:옮겨|이동)", t)
    if m and _KO_POS.get(m["w"]):
        return [Move(target=_cjk_target(m["t"], quoted, ctx), position=_KO_POS[m["w"]])]
    m = re.match(_KO_OBJ + r"(?P<v>크게|작게)", t)
    if m:
        return [Resize(target=_cjk_target(m["t"], quoted, ctx),
                       factor=1.4 if m["v"] == "크게" else 0.7)]
    m = re.match(_KO_OBJ + r"(?:추가|넣어|그려)", t)
    if m:
        new = _cjk_new(m["t"])
        return [AddObject(**new)] if new else None
    m = re.match(_KO_OBJ + r"(?P<n>.+?)\s*(?:으로|로)\s*(?:바꿔|변경|바꾸|만들어|해)", t)
    return _cjk_change(m["t"], m["n"], quoted, ctx) if m else None


_KO_POS = {"왼쪽": "left", "오른쪽": "right", "위": "top", "위쪽": "top", "아래": "bottom",
           "아래쪽": "bottom", "가운데": "center", "중앙": "center"}


# Order matters: "make the frog a little bigger" is a resize before it could read as
# "make X a Y" (replace); "make the background blue" is the backdrop, not a recolour.
_RULES = (_rule_cjk, _rule_text, _rule_canvas, _rule_style, _rule_background, _rule_remove,
          _rule_swap, _rule_recolor, _rule_resize, _rule_replace, _rule_move, _rule_add)


# --- resolving selectors ---------------------------------------------------------------

def _rgb(color: str | None) -> tuple[int, int, int] | None:
    import webcolors

    if not color:
        return None
    try:
        c = webcolors.hex_to_rgb(color) if color.startswith("#") else webcolors.name_to_rgb(color)
    except ValueError:
        return None
    return (c.red, c.green, c.blue)


def _same_color(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    if a.lower() == b.lower():
        return True
    ra, rb = _rgb(a.lower()), _rgb(b.lower())
    return ra is not None and rb is not None and sum((x - y) ** 2 for x, y in zip(ra, rb)) < 60 ** 2


def _label_matches(label: str, wanted: str) -> bool:
    have = [lemma(w) for w in re.findall(r"[\w'-]+", label.lower())]
    want = [lemma(w) for w in re.findall(r"[\w'-]+", wanted.lower())]
    if not want:
        return False
    if want[-1] not in have:
        return False
    return all(w in have for w in want) or len(want) == 1


def _centre(el) -> tuple[float, float]:
    x0, y0, x1, y1 = el.box
    return (x0 + x1) / 2, (y0 + y1) / 2


def _area(el) -> float:
    x0, y0, x1, y1 = el.box
    return (x1 - x0) * (y1 - y0)


_PEOPLE = {"person", "man", "woman", "boy", "girl", "child", "kid", "baby", "lady", "guy",
           "king", "queen", "prince", "princess", "knight", "wizard", "witch", "chef", "doctor",
           "nurse", "astronaut", "teacher", "student", "farmer", "pirate", "hero", "character",
           "people", "worker", "player", "dancer", "runner", "skier", "surfer", "student",
           "grandma", "grandpa", "mother", "father", "mom", "dad", "toddler", "soldier"}


def _is_person(label: str) -> bool:
    return bool(set(lemma(w) for w in label.lower().split()) & _PEOPLE)


def _candidates(plan: Plan, sel: Selector) -> list:
    if sel.ids:
        missing = [i for i in sel.ids if i not in {e.id for e in plan.elements}]
        if missing:
            raise PlanError(f"no element with id {missing[0]!r} in the Plan")
        return [plan.element(i) for i in sel.ids]
    els = [e for e in plan.elements if sel.kind in ("any", e.kind)]
    if sel.label:
        els = [e for e in els if e.kind == "object" and _label_matches(e.label, sel.label)]
    if sel.content is not None:
        exact = [e for e in els if e.kind == "text" and e.content == sel.content]
        folded = [e for e in els if e.kind == "text"
                  and e.content.casefold() == sel.content.casefold()]
        els = exact or folded or [e for e in els if e.kind == "text"
                                  and sel.content.casefold() in e.content.casefold()]
    if sel.role:
        by_role = [e for e in els if e.kind == "text" and e.role == sel.role]
        # A poster's biggest line is its title even when the planner called it a heading.
        els = by_role or ([max(els, key=_area)] if els and sel.which is None else els)
    if sel.color:
        els = [e for e in els if _same_color(e.color, sel.color)]
    return els


def _pick(els: list, which: str | None, ordinal: int | None, sel: Selector) -> list:
    if ordinal is not None:
        xs = [_centre(e)[0] for e in els]
        ys = [_centre(e)[1] for e in els]
        horizontal = (max(xs) - min(xs)) >= (max(ys) - min(ys))
        order = sorted(els, key=lambda e: (_centre(e)[0], _centre(e)[1]) if horizontal
                       else (_centre(e)[1], _centre(e)[0]))
        idx = ordinal - 1 if ordinal > 0 else len(order) + ordinal
        if not 0 <= idx < len(order):
            raise PlanError(f"{sel.words or 'the selection'!r}: there are only {len(order)} "
                            "matching elements")
        return [order[idx]]
    key = {"left": lambda e: _centre(e)[0], "right": lambda e: -_centre(e)[0],
           "top": lambda e: _centre(e)[1], "bottom": lambda e: -_centre(e)[1],
           "largest": lambda e: -_area(e), "smallest": _area,
           # "any": one of them, the last in reading order (a stable, visible choice).
           "any": lambda e: (-_centre(e)[0], -_centre(e)[1]),
           # "main": "the character" — a person when there is one, else the largest thing.
           "main": lambda e: (e.kind != "object" or not _is_person(e.label), -_area(e)),
           "center": lambda e: (_centre(e)[0] - 0.5) ** 2 + (_centre(e)[1] - 0.5) ** 2}
    if which in key:
        return [min(els, key=key[which])]
    return els


def resolve(plan: Plan, sel: Selector, *, many: bool = False) -> list:
    """The elements ``sel`` names in ``plan``.

    Args:
        many: accept several matches without ``which="all"`` (used for probing).
    Raises:
        PlanError: nothing matches, or several match a singular selector (the message
            lists them and how to pick one).
    """
    els = _candidates(plan, sel)
    said = sel.words or (sel.label or sel.kind)
    if not els:
        have = ", ".join(f"{e.id} ({e.label if e.kind == 'object' else repr(e.content)})"
                         for e in plan.elements) or "no elements"
        raise PlanError(f"nothing in the image matches {said!r}; it has: {have}")
    picked = _pick(els, sel.which, sel.ordinal, sel)
    if len(picked) > 1 and sel.label and all(
            re.search(r"\bof\s+(?:\w+\s+)*" + re.escape(lemma(sel.label.split()[-1])) + r"\b",
                      e.label) for e in picked):
        return picked    # "the bread" over two "loaf of bread": the stuff, all of it
    if len(picked) > 1 and sel.which != "all" and not sel.ids and not many:
        names = ", ".join(e.id for e in picked)
        raise PlanError(f"{said!r} matches {len(picked)} elements ({names}); say which one "
                        "(the left/right/top/bottom one, the first/second one) or 'all'")
    return picked


# --- placing boxes ---------------------------------------------------------------------

_REGIONS = {None: (0, 0, 1, 1), "center": (0.2, 0.2, 0.8, 0.8), "left": (0, 0, 0.5, 1),
            "right": (0.5, 0, 1, 1), "top": (0, 0, 1, 0.5), "bottom": (0, 0.5, 1, 1),
            "top left": (0, 0, 0.5, 0.5), "top right": (0.5, 0, 1, 0.5),
            "bottom left": (0, 0.5, 0.5, 1), "bottom right": (0.5, 0.5, 1, 1)}
_MARGIN = 0.03
_GAP = 0.02
_GRID = 24


def clamp_box(box: Box) -> Box:
    """Shift a box inside the unit square (shrinking it only when it is bigger)."""
    x0, y0, x1, y1 = box
    w, h = min(x1 - x0, 1.0), min(y1 - y0, 1.0)
    x0 = min(max(x0, 0.0), 1.0 - w)
    y0 = min(max(y0, 0.0), 1.0 - h)
    return (round(x0, 4), round(y0, 4), round(min(x0 + w, 1.0), 4), round(min(y0 + h, 1.0), 4))


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _span(lo: float, hi: float, size: float, steps: int) -> list[float]:
    """Candidate centres for a length ``size`` inside ``[lo, hi]`` (kept off the edges)."""
    lo, hi = max(lo, _MARGIN), min(hi, 1 - _MARGIN)
    if hi - lo <= size:
        return [min(max((lo + hi) / 2, size / 2), 1 - size / 2)]
    return [lo + size / 2 + (hi - lo - size) * k / steps for k in range(steps + 1)]


def place_in_region(others: list[Box], w: float, h: float, position: str | None,
                    prefer: tuple[float | None, float | None] = (None, None)) -> Box:
    """The box of size ``w x h`` (canvas fractions) inside ``position``'s region that overlaps
    ``others`` least, nearest the region's centre (or ``prefer``'s coordinate along an axis
    the position leaves free: "move the cat to the right" keeps its height).

    A deterministic grid search: the same inputs give the same box.
    """
    rx0, ry0, rx1, ry1 = _REGIONS[position]
    w, h = min(w, 1.0), min(h, 1.0)
    free_x = position in (None, "top", "bottom")
    free_y = position in (None, "left", "right")
    tx = prefer[0] if free_x and prefer[0] is not None else (rx0 + rx1) / 2
    ty = prefer[1] if free_y and prefer[1] is not None else (ry0 + ry1) / 2
    # Keep a small gap: boxes that merely touch still look cramped (and shadows overlap).
    others = [(o[0] - _GAP, o[1] - _GAP, o[2] + _GAP, o[3] + _GAP) for o in others]
    best, best_score = None, None
    xs = _span(rx0, rx1, w, _GRID)
    for cy in _span(ry0, ry1, h, _GRID):
        boxes = [clamp_box((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)) for cx in xs]
        covers = _row_covers(boxes, others)
        for cx, box, cover in zip(xs, boxes, covers):
            score = cover / (w * h) * 2.0 + ((cx - tx) ** 2 + (cy - ty) ** 2) ** 0.5
            if best_score is None or score < best_score - 1e-9:
                best, best_score = box, score
    return best


def _row_covers(boxes: list[Box], others: list[Box]) -> list[float]:
    """For one row of candidate boxes (one y-range: clamping moves y by cy alone), the area
    each shares with ``others`` summed. Only the boxes across the row can overlap it; a Plan
    filling up (edits add up to MAX_ELEMENTS) takes numpy, one array op per row instead of a
    Python loop per candidate and box."""
    by0, by1 = boxes[0][1], boxes[0][3]
    row = [(o[0], o[2], min(by1, o[3]) - max(by0, o[1])) for o in others
           if o[1] < by1 and by0 < o[3]]
    if len(row) < 24:
        # _overlap(box, o), inlined: the filters make both extents positive
        return [sum((min(b[2], ox1) - max(b[0], ox0)) * oh for ox0, ox1, oh in row
                    if ox0 < b[2] and b[0] < ox1) for b in boxes]
    import numpy as np

    r = np.array(row)                                      # (k, 3): x0, x1, overlap height
    b = np.array([(bx[0], bx[2]) for bx in boxes])         # (m, 2): x0, x1
    wide = np.minimum(b[:, 1:2], r[None, :, 1]) - np.maximum(b[:, 0:1], r[None, :, 0])
    return (np.clip(wide, 0.0, None) * r[None, :, 2]).sum(axis=1).tolist()


_HOLD_SCALE = {"umbrella": 1.2, "balloon": 0.5, "flag": 0.6, "sign": 0.8, "parasol": 1.2}
_TOP_ITEMS = {"hat", "cap", "crown", "helmet", "beret", "beanie", "halo", "headband", "tiara",
              "wig", "umbrella", "bow"}
_FACE_ITEMS = {"glasses", "sunglasses", "sunglass", "mask", "goggles", "monocle"}


def place_relative(anchor: Box, w: float, h: float, relation: str, label: str,
                   others: list[Box]) -> Box:
    """A box of size ``w x h`` placed ``relation`` to ``anchor`` (e.g. "above", "wearing")."""
    ax0, ay0, ax1, ay1 = anchor
    aw, ah = ax1 - ax0, ay1 - ay0
    acx, acy = (ax0 + ax1) / 2, (ay0 + ay1) / 2
    gap = 0.02
    head = label.split()[-1] if label else ""
    if relation == "wearing":
        s = _HOLD_SCALE.get(head, 0.55)
        w, h = aw * s, ah * s * (0.45 if head in _TOP_ITEMS | _FACE_ITEMS else 0.8)
        # Hats sit on the top edge; a held-up umbrella's handle reaches down to the head.
        lift = 0.45 if head in ("umbrella", "parasol") else 0.2
        cy = (ay0 + h * lift if head in _TOP_ITEMS else ay0 + ah * 0.3 if head in _FACE_ITEMS
              else acy)
        return clamp_box((acx - w / 2, cy - h / 2, acx + w / 2, cy + h / 2))
    if relation == "holding":
        s = _HOLD_SCALE.get(head, 0.5)
        w, h = aw * s, ah * s
        return clamp_box((ax1 - w * 0.6, ay0 + ah * 0.2, ax1 + w * 0.4, ay0 + ah * 0.2 + h))
    spots = {
        "left of": (ax0 - gap - w, acy - h / 2), "right of": (ax1 + gap, acy - h / 2),
        "above": (acx - w / 2, ay0 - gap - h), "below": (acx - w / 2, ay1 + gap),
        "under": (acx - w / 2, ay1 + gap), "on": (acx - w / 2, ay0 - h * 0.85),
        "in front of": (acx - w / 2, ay1 - h * 0.8),
        "behind": (acx - w / 2 + aw * 0.3, ay0 - h * 0.3),
        "in": (acx - w / 2, acy - h / 2), "around": (acx - w / 2, acy - h / 2),
    }
    if relation in ("next to", "beside", "between") or relation not in spots:
        right = clamp_box((ax1 + gap, acy - h / 2, ax1 + gap + w, acy + h / 2))
        left = clamp_box((ax0 - gap - w, acy - h / 2, ax0 - gap, acy + h / 2))
        cost = [sum(_overlap(b, o) for o in others + [anchor]) for b in (right, left)]
        return right if cost[0] <= cost[1] else left
    if relation in ("in", "around"):
        s = 0.6 if relation == "in" else 1.3
        w, h = aw * s, ah * s
        x, y = acx - w / 2, acy - h / 2
    else:
        x, y = spots[relation]
    return clamp_box((x, y, x + w, y + h))


def place_between(a: Box, b: Box, w: float, h: float) -> Box:
    """A box centred between two anchors, narrowed to the gap between them when needed."""
    ax, ay = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    bx, by = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    gap_x = max(b[0] - a[2], a[0] - b[2])
    gap_y = max(b[1] - a[3], a[1] - b[3])
    gap = max(gap_x, gap_y)
    if gap > 0.02 and gap < (w if gap_x >= gap_y else h):
        s = gap * 0.9 / (w if gap_x >= gap_y else h)
        w, h = w * s, h * s
    mx, my = (ax + bx) / 2, (ay + by) / 2
    return clamp_box((mx - w / 2, my - h / 2, mx + w / 2, my + h / 2))


def _anchors(plan: Plan, op) -> list:
    """The anchor elements of an add or move ("between the mugs" may name two at once)."""
    if op.anchor is None:
        return []
    between = op.relation == "between"
    found = resolve(plan, op.anchor, many=between)
    if op.anchor2 is not None:
        found += resolve(plan, op.anchor2, many=between)
    return found if between else found[:1]


def _default_side(plan: Plan, size: str | None) -> float:
    """The side (pixels) of a new object: the median existing object, else 30% of the
    short side; "small"/"large" scale it."""
    W, H = plan.size
    sides = [((e.box[2] - e.box[0]) * W * (e.box[3] - e.box[1]) * H) ** 0.5 for e in plan.objects]
    side = statistics.median(sides) if sides else 0.3 * min(W, H)
    side = min(max(side, 0.12 * min(W, H)), 0.45 * min(W, H))
    return side * {"small": 0.6, "large": 1.5}.get(size or "", 1.0)


def _new_id(plan: Plan, label: str, taken: set[str]) -> str:
    slug = re.sub(r"[^\w]+", "-", label.lower()).strip("-") or "object"
    k = 1
    while f"{slug}-{k}" in taken:
        k += 1
    taken.add(f"{slug}-{k}")
    return f"{slug}-{k}"


# --- applying operations ---------------------------------------------------------------

def _replace_elements(plan: Plan, changed: dict, removed: set[str] = frozenset(),
                      added: tuple = ()) -> Plan:
    els = tuple(changed.get(e.id, e) for e in plan.elements if e.id not in removed) + added
    return plan.model_copy(update={"elements": els})


def _revalidate(plan: Plan) -> Plan:
    # model_copy skips validation: run the Plan's checks on the result.
    return Plan.model_validate(plan.model_dump())


def _apply_add(plan: Plan, op: AddObject, ctx: _Context) -> Plan:
    W, H = plan.size
    side = _default_side(plan, op.size)
    w, h = side / W, side / H
    anchors = _anchors(plan, op)
    anchor = anchors[0] if anchors else None
    taken = {e.id for e in plan.elements}
    boxes = [e.box for e in plan.elements]
    new = []
    top_z = max((e.z for e in plan.elements), default=0)
    for _ in range(op.count):
        if op.relation == "between" and len(anchors) >= 2:
            box = place_between(anchors[0].box, anchors[1].box, w, h)
        elif anchor is not None and op.relation:
            box = place_relative(anchor.box, w, h, op.relation, op.label, boxes)
        else:
            box = place_in_region(boxes, w, h, op.position)
        z = anchor.z - 1 if anchor is not None and op.relation == "behind" else top_z + 1
        eid = _new_id(plan, op.label, taken)
        new.append(ObjectElement(id=eid, box=box, z=z, label=op.label, color=op.color,
                                 description=op.description, subject_id=eid,
                                 reference=op.reference))
        boxes.append(box)
    ctx.last = [e.id for e in new]
    return _replace_elements(plan, {}, added=tuple(new))


def _apply_add_text(plan: Plan, op: AddText, ctx: _Context) -> Plan:
    lines = max(1, len(op.content) // 28 + 1)
    w, h = 0.8, min(0.1 * lines, 0.4) if op.role in ("title", "heading") else min(0.06 * lines, 0.3)
    position = op.position or ("top" if op.role in ("title", "heading") else "bottom")
    if op.on is not None:
        # Written on a thing: the middle of its box, a little inside its edges.
        on = op.on.model_copy(update={"ids": tuple(ctx.last[:1])}) if op.on.last else op.on
        x0, y0, x1, y1 = resolve(plan, on)[0].box
        box = clamp_box((x0 + (x1 - x0) * 0.1, y0 + (y1 - y0) * 0.3,
                         x1 - (x1 - x0) * 0.1, y1 - (y1 - y0) * 0.3))
    else:
        box = place_in_region([e.box for e in plan.elements], w, h, position)
    taken = {e.id for e in plan.elements}
    el = TextElement(id=_new_id(plan, op.role if op.role != "body" else "text", taken), box=box,
                     z=max((e.z for e in plan.elements), default=0) + 1, content=op.content,
                     script=script_of(op.content), color=op.color, role=op.role)
    ctx.last = [el.id]
    return _replace_elements(plan, {}, added=(el,))


def _apply_remove(plan: Plan, op: Remove, ctx: _Context) -> Plan:
    gone = {e.id for e in resolve(plan, op.target)}
    if op.keep is not None:
        gone -= {e.id for e in resolve(plan, op.keep, many=True)}
    ctx.last = []
    return _replace_elements(plan, {}, removed=gone)


def _apply_swap(plan: Plan, op: Swap, ctx: _Context) -> Plan:
    a, b = resolve(plan, op.first)[0], resolve(plan, op.second)[0]
    if a.id == b.id:
        raise PlanError(f"{op.first.words!r} and {op.second.words!r} are the same element")
    (ax, ay), (bx, by) = _centre(a), _centre(b)

    def moved(el, cx, cy):
        w, h = el.box[2] - el.box[0], el.box[3] - el.box[1]
        return el.model_copy(update={"box": clamp_box((cx - w / 2, cy - h / 2,
                                                    cx + w / 2, cy + h / 2))})

    ctx.last = [a.id, b.id]
    changed = {a.id: moved(a, bx, by), b.id: moved(b, ax, ay)}
    changed = _follow(plan, {i: (plan.element(i).box, e.box) for i, e in changed.items()},
                      changed)
    return _revalidate(_replace_elements(plan, changed))


def _apply_replace(plan: Plan, op: Replace, ctx: _Context) -> Plan:
    taken = {e.id for e in plan.elements}
    changed = {}
    for old in resolve(plan, op.target):
        eid = _new_id(plan, op.label, taken)
        changed[old.id] = ObjectElement(id=eid, box=old.box, z=old.z, label=op.label,
                                        color=op.color, description=op.description,
                                        subject_id=eid, reference=op.reference)
    ctx.last = [e.id for e in changed.values()]
    return _replace_elements(plan, changed)


def _apply_recolor(plan: Plan, op: Recolor, ctx: _Context) -> Plan:
    targets = resolve(plan, op.target)
    ctx.last = [e.id for e in targets]
    return _replace_elements(plan, {e.id: e.model_copy(update={"color": op.color})
                                    for e in targets})


def carried(plan: Plan, el, moving: set[str]) -> list:
    """Objects that ride on ``el`` (a hat it wears, an umbrella it holds): smaller objects
    drawn over it whose centre lies inside its box. They follow it when it moves or grows."""
    if el.kind != "object":
        return []
    x0, y0, x1, y1 = el.box
    out = []
    for o in plan.objects:
        if o.id in moving or o.id == el.id or o.z <= el.z or _area(o) >= 0.8 * _area(el):
            continue
        cx, cy = _centre(o)
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            out.append(o)
    return out


def _follow(plan: Plan, moved: dict, changed: dict) -> dict:
    """Add to ``changed`` the carried objects of each moved element, mapped by the same
    move and scale as their carrier."""
    moving = set(moved)
    for eid, (old, new) in moved.items():
        sx = (new[2] - new[0]) / (old[2] - old[0])
        sy = (new[3] - new[1]) / (old[3] - old[1])
        for o in carried(plan, plan.element(eid), moving):
            bx = tuple(new[0] + (v - old[0]) * sx if k % 2 == 0 else new[1] + (v - old[1]) * sy
                       for k, v in enumerate(o.box))
            changed[o.id] = o.model_copy(update={"box": clamp_box(bx)})
    return changed


def _apply_move(plan: Plan, op: Move, ctx: _Context) -> Plan:
    targets = resolve(plan, op.target)
    ids = {e.id for e in targets}
    riders = {o.id for t in targets for o in carried(plan, t, ids)}
    others = [e.box for e in plan.elements if e.id not in ids | riders]
    anchors = _anchors(plan, op)
    if any(a.id in ids for a in anchors):
        raise PlanError(f"cannot move {op.target.words!r} relative to itself")
    anchor = anchors[0] if anchors else None
    changed = {}
    for el in targets:
        x0, y0, x1, y1 = el.box
        w, h = x1 - x0, y1 - y0
        if op.relation == "between" and len(anchors) >= 2:
            box = place_between(anchors[0].box, anchors[1].box, w, h)
        elif anchor is not None and op.relation:
            box = place_relative(anchor.box, w, h, op.relation, "", others)
        elif op.position is not None:
            box = place_in_region(others, w, h, op.position, prefer=_centre(el))
        else:
            box = clamp_box((x0 + op.dx, y0 + op.dy, x1 + op.dx, y1 + op.dy))
        others.append(box)
        changed[el.id] = el.model_copy(update={"box": box})
    ctx.last = list(changed)
    changed = _follow(plan, {i: (plan.element(i).box, e.box) for i, e in changed.items()},
                      changed)
    return _revalidate(_replace_elements(plan, changed))


def _apply_resize(plan: Plan, op: Resize, ctx: _Context) -> Plan:
    targets = resolve(plan, op.target)
    changed = {}
    for el in targets:
        cx, cy = _centre(el)
        w = min((el.box[2] - el.box[0]) * op.factor, 1.0)
        h = min((el.box[3] - el.box[1]) * op.factor, 1.0)
        if w < 0.01 or h < 0.01:
            raise PlanError(f"{op.target.words or el.id!r} would become too small to see")
        update = {"box": clamp_box((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))}
        if el.kind == "text" and el.font_size is not None:   # the type grows with its box
            update["font_size"] = round(min(el.font_size * op.factor, 1.0), 5)
        changed[el.id] = el.model_copy(update=update)
    ctx.last = list(changed)
    changed = _follow(plan, {i: (plan.element(i).box, e.box) for i, e in changed.items()},
                      changed)
    return _revalidate(_replace_elements(plan, changed))


def _apply_set_text(plan: Plan, op: SetText, ctx: _Context) -> Plan:
    if not op.content.strip():
        raise PlanError("new text must not be empty")
    try:
        targets = resolve(plan, op.target)
    except PlanError:
        if plan.texts:
            raise
        # No text yet: "make the title say X" on a picture without one adds it.
        return _apply_add_text(plan, AddText(content=op.content, role=op.target.role or "title"),
                               ctx)
    ctx.last = [e.id for e in targets]
    return _replace_elements(plan, {e.id: e.model_copy(update={
        "content": op.content, "script": script_of(op.content, e.script)}) for e in targets})


def _apply_background(plan: Plan, op: SetBackground, ctx: _Context) -> Plan:
    canvas = plan.canvas.model_copy(update={"background": op.background})
    return plan.model_copy(update={"canvas": canvas})


def _apply_style(plan: Plan, op: SetStyle, ctx: _Context) -> Plan:
    return plan.model_copy(update={"style": op.style})


def refit_boxes(plan: Plan, width: int, height: int) -> tuple:
    """Elements for a new canvas size: objects keep their pixel aspect (shrunk about their
    centre along the axis that grew); text boxes keep their fractions."""
    W, H = plan.size
    out = []
    for el in plan.elements:
        if el.kind == "text":
            out.append(el)
            continue
        x0, y0, x1, y1 = el.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ratio = ((x1 - x0) * W) / ((y1 - y0) * H)    # the object's pixel aspect
        if width / height > W / H:                   # canvas got wider: keep height
            h = y1 - y0
            w = ratio * h * height / width
        else:
            w = x1 - x0
            h = w * width / (ratio * height)
        out.append(el.model_copy(update={"box": clamp_box((cx - w / 2, cy - h / 2,
                                                        cx + w / 2, cy + h / 2))}))
    return tuple(out)


def _apply_canvas(plan: Plan, op: SetCanvas, ctx: _Context) -> Plan:
    if op.aspect is not None:
        width, height = size_for_aspect(op.aspect, plan.canvas.width * plan.canvas.height)
    elif op.width is not None and op.height is not None:
        width, height = check_size(op.width, op.height)
    else:
        raise PlanError("canvas edit needs an aspect (e.g. 16:9) or a width and height")
    canvas = plan.canvas.model_copy(update={"width": width, "height": height})
    return _revalidate(plan.model_copy(update={"canvas": canvas,
                                               "elements": refit_boxes(plan, width, height)}))


_APPLY = {"add": _apply_add, "add_text": _apply_add_text, "remove": _apply_remove,
          "swap": _apply_swap,
          "replace": _apply_replace, "recolor": _apply_recolor, "move": _apply_move,
          "resize": _apply_resize, "set_text": _apply_set_text, "background": _apply_background,
          "style": _apply_style, "canvas": _apply_canvas}
