"""The LLM planner: a local instruct model reads the prompt, the rules anchor the hard facts.

Steps for one prompt:
1. ``planner.rules.understand(prompt)``: the hard facts (quoted texts verbatim, explicit counts,
   colours, sizes, aspect, relations).
2. The model replies with a scene description under a JSON Schema (``reply_schema``):
   an optional short ``thinking`` string first, then objects (name, count, colour, position),
   texts (whose ``content`` is an enum of the prompt's quoted strings, so the model cannot
   alter, translate or add one), relations, background, aspect, style. Decoding is
   grammar-constrained (model/llm.py), so the reply is always JSON of that schema unless the
   token budget runs out; then it is retried (at most twice, with tighter bounds and seeded
   sampling) and finally refused with a ``PlanError`` carrying the raw text.
3. ``merge``: the rules' facts win every conflict; the model fills what the rules left empty
   and adds objects the rules missed. How far the model is trusted is its preset's ``trust``:
   ``grounded`` (small models) accepts an addition only when the prompt's own words back it
   (or when the prompt is in a script the rules could not read and they found nothing);
   ``full`` (large models) also accepts implicit objects and styles.
4. The same assembly and layout solver as the rules planner make the boxes: the model never
   gives coordinates.

Replies are cached on disk under ``$LIMNER_HOME/cache/llm`` keyed by the model, the prompt,
the decoding seed and everything that shapes the reply (schema, instructions, budget), so a
rerun is instant and identical. Decoding is greedy by default, so the reply does not depend on
the seed (the layout still does); with ``temperature > 0`` sampling is seeded with the seed.

Edits (``LLMPlanner.revise``): the rules reviser first, and its answer (or refusal) whenever
it reads the instruction, so the model never makes an edit worse; an instruction no rule reads
goes to the model, which writes an ``EditScript`` under ``revise_schema`` (the Plan's ids, the
instruction's quoted strings), checked by ``check_script``, retried like a plan reply, and
applied by ``planner.revise.apply_ops``.

No torch here: the model is loaded through model/llm.py on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from planner.scene import POSITIONS, RELATIONS, Entity, Scene, SceneRelation, TextItem
from planner.schema import SCENES, Background, Plan, PlanError, Style

ENV_MODEL = "LIMNER_PLANNER_MODEL"
MAX_RETRIES = 2
PROMPT_VERSION = "2"     # bump when the instructions or the schema's shape change

COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black",
          "white", "gray", "gold", "silver", "beige", "teal", "navy", "cyan", "magenta")
ASPECTS = ("1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "2:1", "1:2", "3:1", "1:3")
ROLES = ("title", "heading", "label", "body", "caption")
# "between" needs two anchors; the reply's relations have one.
REPLY_RELATIONS = tuple(r for r in RELATIONS if r != "between")
# Words of the prompt that back a relation the model proposes (grounded trust).
RELATION_CUES = {
    "left of": {"left"}, "right of": {"right"},
    "above": {"above", "over", "top", "atop", "up"},
    "below": {"below", "under", "beneath", "underneath", "bottom", "down"},
    "on": {"on", "atop", "onto", "upon", "top"}, "under": {"under", "beneath", "below"},
    "beside": {"beside", "next", "near", "by", "alongside"},
    "next to": {"beside", "next", "near", "by", "alongside"},
    "around": {"around", "surrounding", "surrounded", "encircling"},
    "in": {"in", "inside", "within", "into"}, "in front of": {"front"},
    "behind": {"behind"}, "wearing": {"wearing", "wears", "wear", "dressed"},
    "holding": {"holding", "holds", "hold", "carrying"},
}

SYSTEM_PROMPT = (
    "You turn a request for a picture into JSON. objects: each kind of thing to draw, as an "
    "English singular noun, with how many and its colour. texts: the quoted words to write. "
    "relations: where one thing is relative to another (a rel b). background: a scene or "
    "transparent. aspect: width:height. Use null when the request does not say.")


def configured_model() -> str | None:
    """The LLM planner model from ``$LIMNER_PLANNER_MODEL`` (preset name or path), or None."""
    value = os.environ.get(ENV_MODEL, "").strip()
    return value or None


# --- the reply's JSON Schema --------------------------------------------------------------------
def _string(max_chars: int) -> dict:
    # A pattern rather than maxLength: xgrammar's maxLength grammar lets raw control characters
    # through, which strict JSON parsers reject. This class also leaves out escapes and the
    # surrogate range (a lone surrogate's UTF-8 bytes are not valid UTF-8).
    return {"type": "string",
            "pattern": '^[^\\x00-\\x1f"\\\\\\ud800-\\udfff]{0,%d}$' % max_chars}


def _nullable(values: Sequence[str]) -> dict:
    return {"enum": [*values, None]}


def _object(props: dict) -> dict:
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def reply_schema(limits, quoted: Sequence[str]) -> dict:
    """The JSON Schema of the model's reply.

    Args:
        limits: ``model.llm.ReplyLimits`` (bounds on every list and string).
        quoted: the prompt's quoted strings; the reply's text contents must be one of them.
    Returns:
        A JSON Schema whose properties are all required, in the order the model writes them.
    """
    props: dict[str, Any] = {}
    if limits.thinking_chars:
        props["thinking"] = _string(limits.thinking_chars)
    item: dict[str, Any] = {"name": _string(limits.name_chars),
                            "count": {"type": "integer", "minimum": 1, "maximum": 20},
                            "color": _nullable(COLORS)}
    if limits.attributes:
        item["attributes"] = {"type": "array", "maxItems": limits.attributes,
                              "items": _string(limits.attribute_chars)}
    item["position"] = _nullable(POSITIONS)
    props["objects"] = {"type": "array", "maxItems": limits.objects, "items": _object(item)}
    if quoted:
        props["texts"] = {"type": "array", "maxItems": len(quoted), "items": _object({
            "content": {"enum": list(dict.fromkeys(quoted))}, "role": {"enum": list(ROLES)},
            "position": _nullable(POSITIONS)})}
    if limits.relations:
        props["relations"] = {"type": "array", "maxItems": limits.relations,
                              "items": _object({"a": _string(limits.name_chars),
                                                "rel": {"enum": list(REPLY_RELATIONS)},
                                                "b": _string(limits.name_chars)})}
    props["background"] = _nullable(("transparent", *SCENES))
    props["background_color"] = _nullable(COLORS)
    props["aspect"] = _nullable(ASPECTS)
    if limits.style_chars:
        props["style"] = _string(limits.style_chars)
    return _object(props)


def tighter(limits):
    """Halved bounds for a retry: a shorter reply fits the token budget more easily."""
    from dataclasses import replace

    return replace(limits, thinking_chars=limits.thinking_chars // 2,
                   objects=max(1, limits.objects // 2), name_chars=max(8, limits.name_chars // 2),
                   attributes=limits.attributes // 2, relations=limits.relations // 2,
                   style_chars=limits.style_chars // 2)


def messages_for(prompt: str) -> list[dict]:
    """The chat sent to the model for one prompt."""
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]


def parse_reply(text: str) -> dict:
    """The reply's JSON object.

    Raises:
        ValueError: not a JSON object (e.g. cut off by the token budget).
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the reply is not a JSON object")
    return data


# --- words --------------------------------------------------------------------------------------
_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def _lemma(word: str) -> str:
    from planner.rules import singular

    return singular(word) if word.isascii() else word


def _lemmas(text: str) -> list[str]:
    return [_lemma(w) for w in _words(text)]


ARTICLES = frozenset({"a", "an", "the", "some"})


def normalize_label(name: str) -> str:
    """A model's object name as a label: lower case, single spaces, no leading article, last
    word singular; "" when its head word has no letter ("a 16 9" read from "16:9" is no
    object)."""
    words = _words(unicodedata.normalize("NFKC", name))
    while words and words[0] in ARTICLES:
        words = words[1:]
    if not words or not any(ch.isalpha() for ch in words[-1]):
        return ""
    return " ".join(words[:-1] + [_lemma(words[-1])])


@dataclass(frozen=True)
class Evidence:
    """What the prompt itself says, to check the model's additions against.

    ``words``: lemmas of the prompt outside its quoted texts; ``numbers``: the counts it
    states; ``bridge``: letters outside the Latin script outside quotes (the rules' English
    tables may not read them); ``text_words``: words inside the quoted texts;
    ``modifiers``: lemmas that only ever stand right before a document word ("settings" in
    "a settings screen", "email" in "an email header"): they name the document's kind, not
    a thing in it.
    """

    words: frozenset[str]
    numbers: frozenset[int]
    bridge: bool
    text_words: frozenset[str]
    trust: str = "grounded"
    modifiers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, prompt: str, quoted: Sequence[str], trust: str) -> "Evidence":
        from planner import lexicon

        rest = prompt
        for q in quoted:
            rest = rest.replace(q, " ")
        words = _words(rest)
        numbers = {int(w) for w in words if w.isdecimal() and len(w) < 4}
        numbers |= {lexicon.NUMBER_WORDS[w] for w in words if w in lexicon.NUMBER_WORDS}
        bridge = any(ch.isalpha() and not _is_latin(ch) for ch in rest)
        text_words = {w for q in quoted for w in _lemmas(q)}
        before_doc, elsewhere = set(), set()
        for w, nxt in zip(words, [*words[1:], ""]):
            (before_doc if nxt in lexicon.DOC_WORDS else elsewhere).add(_lemma(w))
        return cls(frozenset(_lemma(w) for w in words) | frozenset(words), frozenset(numbers),
                   bridge, frozenset(text_words), trust, frozenset(before_doc - elsewhere))

    def backs(self, text: str | None) -> bool:
        """True when every word of ``text`` is the prompt's own (always, under full trust)."""
        if text is None:
            return False
        if self.trust == "full":
            return True
        lemmas = _lemmas(text)
        return bool(lemmas) and all(w in self.words for w in lemmas)


def _is_latin(ch: str) -> bool:
    return "LATIN" in unicodedata.name(ch, "")


def _non_objects() -> frozenset[str]:
    from planner import lexicon as lx

    return frozenset(lx.DOC_WORDS | lx.PICTURE_WORDS | lx.NON_OBJECTS | lx.IMAGE_MODIFIERS
                     | set(lx.SCENE_WORDS) | set(lx.NUMBER_WORDS) | set(COLORS))


# --- the model's reply as a Scene ---------------------------------------------------------------
def _entities_of(reply: dict) -> list[Entity]:
    out: dict[str, Entity] = {}
    for obj in reply.get("objects") or ():
        label = normalize_label(str(obj.get("name", "")))
        if not label or label in out:
            continue
        count = obj.get("count")
        out[label] = Entity(
            label=label, count=count if isinstance(count, int) and 1 <= count <= 100 else 1,
            color=obj.get("color") if obj.get("color") in COLORS else None,
            attributes=tuple(a.strip() for a in obj.get("attributes") or () if a.strip()),
            position=obj.get("position") if obj.get("position") in POSITIONS else None)
    return list(out.values())


def _texts_of(reply: dict, quoted: Sequence[str]) -> list[TextItem]:
    out: dict[str, TextItem] = {}
    for item in reply.get("texts") or ():
        content = item.get("content")
        if content in quoted and content not in out:
            out[content] = TextItem(
                content=content, role=item.get("role") if item.get("role") in ROLES else "title",
                position=item.get("position") if item.get("position") in POSITIONS else None)
    return list(out.values())


def _match_entity(label: str, entities: Sequence[Entity]) -> int | None:
    """The entity a label names: equal, or sharing a content word ("coffee mug" ~ "mug")."""
    words = set(_lemmas(label)) - _non_objects()
    for i, e in enumerate(entities):
        if e.label == label:
            return i
    for i, e in enumerate(entities):
        if words & set(_lemmas(e.label)):
            return i
    return None


def _resolve(name: str, entities: Sequence[Entity], texts: Sequence[TextItem]) -> str | None:
    """A relation end ("cat", "the title text", a quoted string) as ``entity:i``/``text:j``."""
    folded = name.strip().casefold()
    for j, t in enumerate(texts):
        if folded and (folded == t.content.casefold() or t.content.casefold() in folded):
            return f"text:{j}"
    i = _match_entity(normalize_label(name), entities)
    if i is not None:
        return f"entity:{i}"
    if len(texts) == 1 and set(_words(name)) & {"text", "title", "heading", "words", "word"}:
        return "text:0"
    return None


def scene_from_reply(reply: dict, prompt: str, quoted: Sequence[str]) -> Scene:
    """The model's reply as a Scene (its own view, before anchoring)."""
    entities = _entities_of(reply)
    texts = _texts_of(reply, quoted)
    relations = []
    for r in reply.get("relations") or ():
        a = _resolve(str(r.get("a", "")), entities, texts)
        b = _resolve(str(r.get("b", "")), entities, texts)
        if a and b and a != b and r.get("rel") in REPLY_RELATIONS:
            relations.append(SceneRelation(subject=a, relation=r["rel"], target=b))
    bg = reply.get("background")
    bg_color = reply.get("background_color") if reply.get("background_color") in COLORS else None
    background = None
    if bg == "transparent":
        background = Background(kind="transparent")
    elif bg in SCENES:
        background = Background(kind="scene", scene=bg, color=bg_color)
    elif bg_color:
        background = Background(kind="color", color=bg_color)
    aspect = None
    if reply.get("aspect") in ASPECTS:
        w, h = reply["aspect"].split(":")
        aspect = (int(w), int(h))
    style = str(reply.get("style") or "").strip()
    return Scene(prompt=prompt, entities=tuple(entities), texts=tuple(texts),
                 relations=tuple(relations), background=background, aspect=aspect,
                 style=Style(text=style), reasoning=str(reply.get("thinking") or "").strip())


# --- anchoring: the rules' facts win, the model fills gaps --------------------------------------
def _consumed(facts: Scene) -> frozenset[str]:
    """Position and colour words the rules already gave to an element: they say nothing about
    another one ("a rocket on the left" does not put the title on the left)."""
    used: set[str] = set()
    for item in (*facts.entities, *facts.texts):
        used.update((item.position or "").split())
        used.update(_words(item.color or ""))
    if facts.background is not None:
        used.update(_words(facts.background.color or ""))
    return frozenset(used)


def _backs_position(ev: Evidence, position: str | None, used: frozenset[str]) -> bool:
    if position is None or set(position.split()) & used:
        return False
    return ev.trust == "full" or set(position.split()) <= ev.words


def _backs_color(ev: Evidence, color: str | None, used: frozenset[str]) -> bool:
    return color is not None and color not in used and (ev.backs(color) or ev.bridge)


def _fill(fact: Entity, guess: Entity, ev: Evidence, used: frozenset[str]) -> Entity:
    """A rules entity with the model's colour/position/attributes where the rules had none."""
    update: dict[str, Any] = {}
    if fact.color is None and _backs_color(ev, guess.color, used):
        update["color"] = guess.color
    if fact.position is None and _backs_position(ev, guess.position, used):
        update["position"] = guess.position
    if not fact.attributes and guess.attributes and all(ev.backs(a) for a in guess.attributes):
        update["attributes"] = guess.attributes
    return fact.model_copy(update=update) if update else fact


def _may_add(guess: Entity, facts: Scene, ev: Evidence) -> bool:
    """Whether an object only the model saw joins the scene (see the module docstring)."""
    words = _lemmas(guess.label)
    if not words or words[-1] in _non_objects() or set(words) <= _non_objects():
        return False
    if set(words) <= ev.text_words:     # the model copied a quoted text as an object
        return False
    if words[-1] in ev.modifiers and ev.trust != "full":   # "settings" of "settings screen"
        return False
    if ev.trust == "full" or ev.backs(guess.label):
        return True
    return ev.bridge and not facts.entities


def _merge_entities(facts: Scene, guess: Scene, ev: Evidence) -> tuple[list[Entity], dict]:
    merged = list(facts.entities)
    used = _consumed(facts)
    where: dict[int, int] = {}           # guess entity index -> merged index
    for gi, g in enumerate(guess.entities):
        fi = _match_entity(g.label, merged)
        if fi is not None:
            where[gi] = fi
            if fi < len(facts.entities):
                merged[fi] = _fill(merged[fi], g, ev, used)
            continue
        if not _may_add(g, facts, ev):
            continue
        stated = ev.trust == "full" or ev.bridge or g.count in ev.numbers
        merged.append(g.model_copy(update={
            "count": g.count if stated else 1,
            "color": g.color if _backs_color(ev, g.color, used) else None,
            "position": g.position if _backs_position(ev, g.position, used) else None,
            "attributes": g.attributes if all(ev.backs(a) for a in g.attributes) else ()}))
        where[gi] = len(merged) - 1
    return merged, where


def _merge_texts(facts: Scene, guess: Scene, ev: Evidence) -> tuple[list[TextItem], dict]:
    texts = list(facts.texts)
    where: dict[int, int] = {}
    for gi, g in enumerate(guess.texts):
        for fi, t in enumerate(texts):
            if t.content == g.content:
                where[gi] = fi
                if t.position is None and _backs_position(ev, g.position, _consumed(facts)):
                    texts[fi] = t.model_copy(update={"position": g.position})
                break
    return texts, where


_SIDES = {"left of": ("left", "right"), "right of": ("right", "left"),
          "above": ("top", "bottom"), "below": ("bottom", "top")}


def _position_of(ref: str, entities: Sequence[Entity], texts: Sequence[TextItem]) -> str:
    kind, _, index = ref.partition(":")
    item = entities[int(index)] if kind == "entity" else texts[int(index)]
    return item.position or ""


def _contradicts(rel: SceneRelation, entities, texts) -> bool:
    """A relation that fights the stated positions ("A left of B" with A on the right)."""
    if rel.relation not in _SIDES:
        return False
    mine, theirs = _SIDES[rel.relation]
    a = _position_of(rel.subject, entities, texts).split()
    b = _position_of(rel.target, entities, texts).split()
    return theirs in a or mine in b


def _merge_relations(facts: Scene, guess: Scene, maps: tuple[dict, dict], entities,
                     texts, ev: Evidence) -> list[SceneRelation]:
    relations = list(facts.relations)
    pairs = {frozenset((r.subject, r.target)) for r in relations if r.target}

    def remap(ref: str) -> str | None:
        kind, _, index = ref.partition(":")
        new = (maps[0] if kind == "entity" else maps[1]).get(int(index))
        return None if new is None else f"{kind}:{new}"

    for r in guess.relations:
        a, b = remap(r.subject), remap(r.target)
        if a is None or b is None or a == b or frozenset((a, b)) in pairs:
            continue
        if ev.trust != "full" and not RELATION_CUES.get(r.relation, set()) & ev.words:
            continue
        rel = SceneRelation(subject=a, relation=r.relation, target=b)
        if not _contradicts(rel, entities, texts):
            relations.append(rel)
            pairs.add(frozenset((a, b)))
    return relations


def merge(facts: Scene, guess: Scene, ev: Evidence) -> Scene:
    """Anchor the model's scene on the rules' facts.

    Args:
        facts: ``planner.rules.understand(prompt)``: texts, explicit counts, colours, sizes,
            aspect and relations; these always win.
        guess: the model's scene (``scene_from_reply``).
        ev: the prompt's evidence and the trust level.
    Returns:
        The merged Scene: the rules' texts exactly, their entities with gaps filled, the
        model's extra objects and relations where allowed; its reasoning starts with the
        model's thinking, then what the model added, then the rules' own notes.
    """
    entities, ent_map = _merge_entities(facts, guess, ev)
    texts, text_map = _merge_texts(facts, guess, ev)
    relations = _merge_relations(facts, guess, (ent_map, text_map), entities, texts, ev)
    background = facts.background
    if background is None and guess.background is not None:
        bg = guess.background
        said = bg.scene if bg.kind == "scene" else "transparent" if bg.kind == "transparent" \
            else bg.color
        # Bridging (a script the rules' tables may not read) only when the rules read
        # nothing: a Chinese prompt they did read gets no background the prompt never named.
        if ev.backs(said) or (ev.bridge and not facts.entities and not facts.texts):
            background = bg
    aspect = facts.aspect or (guess.aspect if ev.trust == "full" else None)
    style = guess.style if not facts.style.text and ev.backs(guess.style.text or None) \
        else facts.style
    added = [f"{e.count} {e.label}" for e in entities[len(facts.entities):]]
    notes = [f"thinking: {guess.reasoning}"] if guess.reasoning else []
    notes += [f"model added: {', '.join(added)}"] if added else []
    notes += [f"model added relation: {r.subject} {r.relation} {r.target}"
              for r in relations[len(facts.relations):]]
    return facts.model_copy(update={
        "entities": tuple(entities), "texts": tuple(texts), "relations": tuple(relations),
        "background": background, "aspect": aspect, "style": style,
        "reasoning": "; ".join(notes + ([facts.reasoning] if facts.reasoning else []))})


# --- reply cache --------------------------------------------------------------------------------
class ReplyCache:
    """Raw replies on disk, one small JSON file per key (atomic writes: temp file + rename)."""

    def __init__(self, directory: str | Path | None = None):
        if directory is None:
            from model.config import limner_home

            directory = limner_home() / "cache" / "llm"
        self.directory = Path(directory)

    @staticmethod
    def key(**parts: Any) -> str:
        """sha256 of everything that shapes a reply."""
        blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        try:
            with open(self._path(key), encoding="utf-8") as f:
                return json.load(f)["reply"]
        except (OSError, ValueError, KeyError):
            return None

    def put(self, key: str, reply: str, **about: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"reply": reply, **about}, f, ensure_ascii=False)
        os.replace(tmp, path)


# --- revising: the model writes an EditScript -------------------------------------------------
REVISE_PROMPT = (
    "You edit a picture's plan. Its elements are listed with their ids. Reply with the edit "
    "operations that carry out the instruction, naming elements by their ids. Texts to write "
    "are the instruction's quoted words. Change nothing the instruction does not name.")
# The rules reviser's refusals that mean "no rule reads these words" (a model may): its other
# refusals ("nothing matches 'the dog'", "elements cannot be rotated") answer a readable
# instruction, and a model would only guess. tests/planner/test_llm_revise.py pins both kinds.
UNREAD_MARKERS = ("could not understand the edit", "is not one the rules know")
_SELECTOR_REF = "#/$defs/Selector"
_DROP_KEYS = ("title", "description", "default", "discriminator")


def _where(box: Sequence[float]) -> str:
    """A box's place in words (thirds of the canvas), for the model's view of the Plan."""
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    col = "left" if x < 1 / 3 else "right" if x > 2 / 3 else "center"
    row = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else "middle"
    return f"{row} {col}"


def plan_summary(plan: Plan) -> str:
    """The Plan as short lines: canvas, background, then each element's id, label or text,
    colour and place."""
    bg = plan.canvas.background
    lines = [f"canvas {plan.canvas.width}x{plan.canvas.height}, background {bg.kind} "
             f"{bg.scene or bg.color or ''}".rstrip()]
    for e in plan.elements:
        what = f"text {e.content!r} ({e.role})" if e.kind == "text" else f"object {e.label!r}"
        lines.append(f"{e.id}: {what}, colour {e.color or 'default'}, at {_where(e.box)}")
    return "\n".join(lines)


def revise_messages(plan: Plan, instruction: str) -> list[dict]:
    """The chat sent to the model to revise ``plan`` by ``instruction``."""
    user = f"Plan:\n{plan_summary(plan)}\nInstruction: {instruction}"
    return [{"role": "system", "content": REVISE_PROMPT}, {"role": "user", "content": user}]


def _narrow(node: Any, defs: dict, limits, name: str = "") -> Any:
    """``edit_json_schema()`` with every ``$ref`` inlined and every free value bounded."""
    if isinstance(node, list):
        return [_narrow(n, defs, limits, name) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return defs[node["$ref"].rsplit("/", 1)[1]]
    if name == "color":
        nullable = any(a.get("type") == "null" for a in node.get("anyOf", ()))
        return _nullable(COLORS) if nullable else {"enum": list(COLORS)}
    if name == "colors":
        return {"type": "array", "items": {"enum": list(COLORS)}, "maxItems": 3}
    if name == "scene":
        return _nullable(SCENES)
    out = {k: _narrow(v, defs, limits) for k, v in node.items()
           if k not in _DROP_KEYS and k != "properties"}
    if "properties" in node:
        out["properties"] = {k: _narrow(v, defs, limits, k) for k, v in node["properties"].items()}
    if out.get("type") == "string" and not {"enum", "const", "pattern"} & set(out):
        return _string(limits.name_chars)
    if out.get("type") == "array" and "maxItems" not in out and "prefixItems" not in out:
        out["maxItems"] = 3
    if out.get("type") == "integer" and "maximum" not in out:
        out.update(minimum=0, maximum=4096 if name in ("width", "height") else 16)
    if "oneOf" in out:
        out["anyOf"] = out.pop("oneOf")
    return out


def revise_schema(plan: Plan, quoted: Sequence[str], limits) -> dict:
    """The JSON Schema the model's edit is decoded under: an ``EditScript`` narrowed to this
    Plan and instruction.

    Args:
        plan: the Plan being edited; selectors may only name its element ids.
        quoted: the instruction's quoted strings; new or changed texts must be one of them
            (no quotes: no text operations).
        limits: ``model.llm.ReplyLimits`` (``objects`` bounds the number of operations,
            ``name_chars`` every free string).
    Returns:
        A self-contained JSON Schema (no ``$ref``); whatever validates against it validates
        as an ``EditScript``.
    """
    from planner.revise import edit_json_schema

    schema = edit_json_schema()
    raw_defs = schema["$defs"]
    ids = [e.id for e in plan.elements]
    defs = {"Selector": _object({"ids": {"type": "array", "items": {"enum": ids},
                                          "minItems": 1, "maxItems": max(1, len(ids))}})}
    for name in ("Background", "Style"):
        defs[name] = _narrow(raw_defs[name], defs, limits)
    ops = []
    for ref in schema["properties"]["ops"]["items"]["oneOf"]:
        d = dict(raw_defs[ref["$ref"].rsplit("/", 1)[1]])
        required = [r for r in d.get("required", ()) if r != "op"]
        targets = [r for r in required if d["properties"][r].get("$ref") == _SELECTOR_REF]
        texts = d["properties"]["op"]["const"] in ("add_text", "set_text")
        if (targets and not ids) or (texts and not quoted):
            continue
        d["required"] = ["op", *required]
        if not ids:   # optional anchors cannot name anything in an empty Plan
            d["properties"] = {k: v for k, v in d["properties"].items()
                               if _SELECTOR_REF not in json.dumps(v)}
        op = _narrow(d, defs, limits)
        if texts:
            op["properties"]["content"] = {"enum": list(dict.fromkeys(quoted))}
        ops.append(op)
    return {"type": "object", "properties": {"ops": {
        "type": "array", "items": {"anyOf": ops}, "minItems": 1,
        "maxItems": max(1, limits.objects)}}, "required": ["ops"], "additionalProperties": False}


def check_script(text: str, plan: Plan, quoted: Sequence[str]) -> tuple:
    """The model's reply as edit operations, its hard facts checked.

    Args:
        text: the raw reply.
        plan: the Plan being edited (every id a selector names must be one of its elements).
        quoted: the instruction's quoted strings (a text operation's content must be one of
            them, verbatim).
    Returns:
        The ``EditOp`` models, in order.
    Raises:
        ValueError: not an ``EditScript``, no operation, an unknown id or a text that is not
            the instruction's.
    """
    from planner.revise import EditScript, Selector

    script = EditScript.model_validate(parse_reply(text))
    if not script.ops:
        raise ValueError("the reply has no edit operation")
    known = {e.id for e in plan.elements}
    for op in script.ops:
        for value in dict(op).values():
            unknown = set(value.ids) - known if isinstance(value, Selector) else set()
            if unknown:
                raise ValueError(f"{op.op!r} names unknown element ids {sorted(unknown)}; the "
                                 f"Plan has {sorted(known)}")
        if op.op in ("add_text", "set_text") and op.content not in quoted:
            raise ValueError(f"{op.op!r} writes {op.content!r}, which is not a quoted string "
                             f"of the instruction {list(quoted)}")
    return script.ops


def assemble(scene: Scene, *, size: tuple[int, int] | None, seed: int, quality: str,
             background: str, planner: str) -> Plan:
    """Scene → Plan with the rules planner's layout solver (the same boxes for the same facts)."""
    from planner.layout import solve

    return solve(scene, size=size, seed=seed, background=background, quality=quality,
                 planner=planner)


# --- the planner --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LLMOptions:
    """Rare knobs of the LLM planner.

    Args:
        device: ``cuda`` or ``cpu``; None picks (CUDA bf16 when available, else CPU fp32).
        backend: ``transformers`` or ``llama-cpp``; None uses the preset's.
        local_files_only: never download (the default; model hubs may be unreachable).
        temperature: 0 decodes greedily; above 0 samples, seeded with the plan's seed.
        cache: keep replies under ``$LIMNER_HOME/cache/llm``.
        batch_size: prompts decoded together by ``plan_many``.
        max_new_tokens: overrides the preset's token budget.
        reply: overrides the preset's reply bounds (``model.llm.ReplyLimits``).
        cache_dir: where replies are kept; None is ``$LIMNER_HOME/cache/llm``.
    """

    device: str | None = None
    backend: str | None = None
    local_files_only: bool = True
    temperature: float = 0.0
    cache: bool = True
    batch_size: int = 16
    max_new_tokens: int | None = None
    reply: Any = None
    cache_dir: str | None = None


class LLMPlanner:
    """Prompt → Plan with a local instruct LLM, anchored on the rules planner's facts.

    Args:
        model_or_path: a preset of configs/planners.yaml, a local directory, a .gguf file or
            an HF repo id (looked up in the local HF cache).
        llm: an already loaded model (anything with ``generate_json_batch``), e.g. in tests
            or the language model a loaded image pipeline holds.
        options: ``LLMOptions``; keyword arguments of the same names are accepted too.
        preset: with ``llm``, its preset (trust, reply bounds) when ``model_or_path`` only
            names it (e.g. ``renderer:qwen-image:text_encoder``).
    Raises:
        PlanError: a model name that is none of the above.
    """

    name = "llm"

    def __init__(self, model_or_path: str, *, llm: Any = None,
                 options: LLMOptions | None = None, preset: Any = None, **option_kw: Any):
        from model.llm import WeightsNotFound, resolve

        if preset is not None and llm is not None:
            self.model_name, self.preset = str(model_or_path), preset
        else:
            try:
                self.model_name, self.preset = resolve(str(model_or_path))
            except WeightsNotFound as e:
                raise PlanError(str(e)) from None
        try:
            self.options = options or LLMOptions(**option_kw)
        except TypeError as e:
            raise PlanError(f"LLM planner: {e}") from None
        self._llm = llm
        self._injected = llm is not None
        self._identity: str | None = None
        if self.options.reply is not None:
            from dataclasses import replace

            self.preset = replace(self.preset, reply=self.options.reply)
        self.cache = ReplyCache(self.options.cache_dir) if self.options.cache else None
        self.calls = 0           # model calls made (batches), for tests and benches

    @property
    def llm(self):
        """The loaded model (loaded on first use)."""
        if self._llm is None:
            from model.llm import WeightsNotFound, load

            try:
                self._llm = load(self.preset, device=self.options.device,
                                 local_files_only=self.options.local_files_only,
                                 backend=self.options.backend)
            except WeightsNotFound as e:
                raise PlanError(f"LLM planner model {self.model_name!r}: {e}") from None
        return self._llm

    def identity(self) -> str:
        """The model as part of cache keys: name and weight files (names and sizes)."""
        if self._identity is None:
            if self._injected:
                self._identity = f"{self.model_name}|{type(self._llm).__name__}"
            else:
                self._identity = _weights_identity(self.model_name, self.preset,
                                                   self.options.local_files_only)
        return self._identity

    def plan(self, prompt: str, *, size: tuple[int, int] | None = None, seed: int = 0,
             quality: str = "auto", background: str = "auto") -> Plan:
        """Prompt → Plan (``Plan.planner`` is ``llm:<model>``, ``Plan.reasoning`` the
        model's thinking).

        Raises:
            PlanError: missing weights, or no valid reply after the retries (``.raw``).
        """
        return self.plan_many([prompt], size=size, seed=seed, quality=quality,
                              background=background)[0]

    def plan_many(self, prompts: Sequence[str], *, size: tuple[int, int] | None = None,
                  seed: int = 0, quality: str = "auto", background: str = "auto") -> list[Plan]:
        """Several prompts, their uncached replies decoded in batches; same options each."""
        from planner.rules import understand

        facts = [understand(p) for p in prompts]
        quoted = [[t.content for t in f.texts] for f in facts]
        replies = self._replies(list(prompts), quoted, seed)
        return [self._plan_one(p, f, q, r, size, seed, quality, background)
                for p, f, q, r in zip(prompts, facts, quoted, replies)]

    def revise(self, plan: Plan, instruction: str) -> Plan:
        """Revise a Plan with an instruction: the rules first, the model when they cannot read it.

        The rules reviser (``planner.revise.revise``) runs first; whatever it understands is
        its answer, so this planner never edits worse than the rules. Only when it raises
        ``PlanError`` saying it could not read the instruction (``UNREAD_MARKERS``) does the
        model write an ``EditScript`` (``revise_schema``: elements
        named by their ids, texts only the instruction's quoted strings), checked by
        ``check_script`` and applied with ``planner.revise.apply_ops``; a reply that fails
        is retried (at most ``MAX_RETRIES`` times), then refused.

        Raises:
            PlanError: an empty instruction, or no usable reply (``.raw`` is the last one).
        """
        from planner.revise import revise

        try:
            return revise(plan, instruction)
        except PlanError as e:
            if not any(marker in str(e) for marker in UNREAD_MARKERS):
                raise
            rules_error = str(e)
        return self._revise_with_model(plan, instruction, rules_error)

    # --- internals ------------------------------------------------------------------------------
    def _revise_with_model(self, plan: Plan, instruction: str, rules_error: str) -> Plan:
        """The model's EditScript for an instruction the rules could not read, applied."""
        from planner.revise import _protect_quotes, apply_ops

        quoted = list(dict.fromkeys(_protect_quotes(instruction)[1]))
        o = self.options
        key = ReplyCache.key(
            version=PROMPT_VERSION, task="revise", model=self.identity(),
            plan=hashlib.sha256(plan.canonical_json().encode("utf-8")).hexdigest(),
            instruction=instruction, seed=plan.seed if o.temperature > 0 else None,
            temperature=o.temperature, system=REVISE_PROMPT, max_new_tokens=self._budget(),
            schema=revise_schema(plan, quoted, self.preset.reply))
        replies = [self.cache.get(key)] if self.cache else []
        limits, raw, why = self.preset.reply, "", ""
        for attempt in range(MAX_RETRIES + 1):
            if attempt:
                limits = tighter(limits)
            if not replies or replies[-1] is None:
                replies = self._decode([revise_messages(plan, instruction)],
                                       [revise_schema(plan, quoted, limits)], plan.seed, attempt)
            raw = replies.pop()
            try:
                revised = apply_ops(plan, check_script(raw, plan, quoted))
            except (ValueError, PlanError) as e:
                why = str(e).splitlines()[0]
                continue
            if self.cache:
                self.cache.put(key, raw, model=self.model_name, instruction=instruction)
            return revised
        raise PlanError(
            f"the rules could not read the edit {instruction!r} ({rules_error}) and the "
            f"{self.model_name} model gave no usable edit after {MAX_RETRIES + 1} attempts "
            f"({why}); raw reply: {raw[:200]!r}", raw=raw)

    def _plan_one(self, prompt: str, facts: Scene, quoted: list[str], reply: dict,
                  size, seed: int, quality: str, background: str) -> Plan:
        ev = Evidence.of(prompt, quoted, self.preset.trust)
        guess = scene_from_reply(reply, prompt, quoted)
        merged = merge(facts, guess, ev)
        label = f"llm:{self.model_name}"
        try:
            return assemble(merged, size=size, seed=seed, quality=quality,
                            background=background, planner=label)
        except (PlanError, ValueError):
            # The model's additions made the layout unsolvable: the facts alone still are.
            anchored = facts.model_copy(update={"reasoning": merged.reasoning})
            return assemble(anchored, size=size, seed=seed, quality=quality,
                            background=background, planner=label)

    def _key(self, prompt: str, quoted: list[str], seed: int) -> str:
        o = self.options
        return ReplyCache.key(
            version=PROMPT_VERSION, model=self.identity(), prompt=prompt,
            seed=seed if o.temperature > 0 else None, temperature=o.temperature,
            schema=reply_schema(self.preset.reply, quoted), system=SYSTEM_PROMPT,
            max_new_tokens=self._budget())

    def _budget(self) -> int:
        return self.options.max_new_tokens or self.preset.max_new_tokens

    def _replies(self, prompts: list[str], quoted: list[list[str]], seed: int) -> list[dict]:
        keys = [self._key(p, q, seed) for p, q in zip(prompts, quoted)]
        replies: list[dict | None] = [None] * len(prompts)
        for i, k in enumerate(keys):
            cached = self.cache.get(k) if self.cache else None
            if cached is not None:
                replies[i] = parse_reply(cached)
        pending = [i for i, r in enumerate(replies) if r is None]
        limits, raw = self.preset.reply, {}
        for attempt in range(MAX_RETRIES + 1):
            if not pending:
                break
            if attempt:
                limits = tighter(limits)
            texts = self._decode([messages_for(prompts[i]) for i in pending],
                                 [reply_schema(limits, quoted[i]) for i in pending],
                                 seed, attempt)
            failed = []
            for i, text in zip(pending, texts):
                try:
                    replies[i] = parse_reply(text)
                except ValueError:
                    raw[i] = text
                    failed.append(i)
                    continue
                if self.cache:
                    self.cache.put(keys[i], text, model=self.model_name, prompt=prompts[i])
            pending = failed
        if pending:
            i = pending[0]
            raise PlanError(
                f"the {self.model_name} model gave no valid JSON for {prompts[i]!r} after "
                f"{MAX_RETRIES + 1} attempts (token budget {self._budget()}); raw reply: "
                f"{raw[i][:200]!r}", raw=raw[i])
        return replies  # type: ignore[return-value]

    def _decode(self, chats: list[list[dict]], schemas: list[dict], seed: int,
                attempt: int) -> list[str]:
        """Decode in batches; a retry samples (seeded) to leave a degenerate greedy path."""
        temperature = self.options.temperature if attempt == 0 else \
            max(self.options.temperature, 0.7)
        out: list[str] = []
        step = max(1, self.options.batch_size)
        for start in range(0, len(chats), step):
            self.calls += 1
            out += self.llm.generate_json_batch(
                chats[start:start + step],
                schemas[start:start + step], self._budget(), seed + 7919 * attempt,
                temperature)
        return out


def _weights_identity(name: str, preset, local_files_only: bool) -> str:
    from model.llm import WeightsNotFound, find_weights

    try:
        w = find_weights(preset, local_files_only)
    except WeightsNotFound as e:
        raise PlanError(f"LLM planner model {name!r}: {e}") from None
    sizes = []
    for entry in sorted(os.listdir(w.location)):
        if entry.endswith((".gguf", ".safetensors", ".bin")):
            sizes.append(f"{entry}:{os.path.getsize(os.path.join(w.location, entry))}")
    return f"{name}|{w.gguf_file or ''}|{';'.join(sizes)}"
