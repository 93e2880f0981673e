"""The layout solver: Scene facts -> boxes. Relations and counts hold by construction.

One solver for both planners (rules and LLM). How it works:

1. Groups. Each entity (all its instances) and each text is a group. An entity that is the
   single anchor of "between" ("a penguin between two ice blocks") is split in two groups.
   Groups that sit on or in another ("wearing", "holding", "in", "around", "in front of",
   "behind") are attached to their parent and placed inside the parent's cell afterwards.
   Groups stated on/above/under/below one another form a stack that takes one cell, cut
   top to bottom, so they line up; only when no other fact needs a group between them.
2. Order. Every stated relation becomes an edge in one of two order graphs: X ("left of")
   or Y ("above"); absolute positions ("on the left") order a group against every group not
   at that side. An edge that would close a cycle (a contradictory prompt) is dropped and
   noted in the Plan's reasoning. Then every pair of groups that is ordered on neither axis
   gets a default edge (titles above, captions below, objects side by side in a
   seed-shuffled order), so no two groups can share a cell.
3. Grid. The rank of a group on each axis (longest path) is its column and row; a group
   with no X edge spans its whole row. Column widths follow content (instance counts, text
   widths), row heights follow text sizes; both get seeded jitter.
4. Boxes. Instances fill their cell in the grid shape that gives them the largest boxes at
   their usual aspect (a road is wide, a tree is tall); text boxes are sized from the
   content, script and role. Because cells of different columns (rows) do not overlap,
   every centre comparison of a stated relation holds for every instance.

Canvas sizes: explicit ``size`` > a pixel size in the prompt > aspect words. The long side
is 1536 for non-square aspects and 1024 for square; "2K"/"4K" make it 2048/3840 ("1K" 1024).
The short side is rounded to a multiple of 16 and the long side refit to it (so 3:1 at 2K is
2064x688, ratio exact; never over 3840); when the result is over 3840x2160 in area both
sides shrink by the same factor and are floored to multiples of 16 (a 4K square is
2880x2880, 4K 4:3 is 3312x2480). Ratios beyond 3:1 are clamped to 3:1.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from planner.scene import Scene
from planner.schema import (DEFAULT_SIZE, MAX_AREA, MAX_RATIO, MAX_SIDE, MAX_TEXT_CHARS,
                            SIZE_MULTIPLE, Background, Canvas, ObjectElement, Plan, PlanError,
                            ShapeElement, TextElement, check_element_count, check_size)

DEFAULT_BACKGROUND = "#f4f1ea"
# Type size per role, in ems of sqrt(canvas area): a title is clearly bigger than body text.
TEXT_EM = {"title": 0.085, "heading": 0.062, "subtitle": 0.052, "label": 0.042, "body": 0.048,
           "bullet": 0.05, "item": 0.05, "price": 0.07, "caption": 0.04}
# "big"/"huge" and "small"/"tiny" before a text scale its role's size.
EMPHASIS = {"large": 1.45, "small": 0.62, None: 1.0}
# Long body copy may wrap to this many lines (the box grows) before the type shrinks.
_MAX_LINES = {"title": 3, "heading": 3, "subtitle": 4, "label": 3}
# Past its role's lines, a long text keeps wrapping (its box grows taller) rather than shrink
# below this share of the canvas (22 px at 1024x1024): a 100-word quote is a paragraph.
LEGIBLE_EM = 0.022
MAX_TEXT_LINES = 40
_PARENT_IS_TARGET = {"in", "around", "in front of", "behind"}
_PARENT_IS_SUBJECT = {"wearing", "holding"}
# Usual width/height of objects, so boxes have a plausible shape.
_ASPECTS = {
    "road": 4.0, "river": 3.5, "bench": 2.0, "sofa": 2.0, "couch": 2.0, "bus": 2.2,
    "train": 3.0, "car": 1.8, "truck": 1.9, "boat": 1.6, "ship": 2.0, "bicycle": 1.6,
    "bike": 1.6, "motorcycle": 1.6, "airplane": 1.8, "plane": 1.8, "banana": 1.6,
    "fish": 1.6, "snake": 2.2, "crocodile": 2.5, "whale": 2.2, "dolphin": 1.8, "tree": 0.7,
    "tower": 0.4, "lighthouse": 0.4, "bottle": 0.4, "vase": 0.6, "candle": 0.4,
    "person": 0.45, "man": 0.45, "woman": 0.45, "boy": 0.5, "girl": 0.5, "giraffe": 0.6,
    "rocket": 0.5, "pagoda": 0.6, "skyscraper": 0.35, "umbrella": 1.2, "table": 1.6,
    "bed": 1.6, "mountain": 1.7, "cloud": 1.8, "rainbow": 2.0, "envelope": 1.5,
    "laptop": 1.4, "penguin": 0.7, "lamp": 0.6, "door": 0.5, "mug": 1.15, "cup": 1.1,
    "bowl": 1.6, "plate": 1.8, "toggle": 2.0, "slider": 4.0, "button": 2.5, "flag": 1.4,
    "sunglasses": 2.4, "glasses": 2.4, "noodles": 1.6, "sushi": 1.4, "block": 1.2,
    "horse": 1.4, "cow": 1.5, "pig": 1.4, "dog": 1.2, "cat": 1.0, "elephant": 1.4,
    "lantern": 0.7, "cactus": 0.6, "bamboo": 0.4, "flower": 0.7, "rose": 0.6, "tulip": 0.6,
    "sunflower": 0.6, "key": 2.0, "pen": 3.0, "pencil": 3.0, "knife": 3.0, "guitar": 0.5,
}
# Typical sizes, so a cup next to a table is drawn smaller than the table.
_LARGE = set("""table desk bed sofa couch house building castle tower skyscraper lighthouse tree
mountain volcano road bridge car bus truck train ship boat airplane plane helicopter elephant
giraffe whale horse cow umbrella tent pagoda temple church barn windmill island rainbow
bookshelf wardrobe fountain pyramid dinosaur bear tractor yacht submarine skyline""".split())
_SMALL = set("""cup mug glass apple banana orange lemon lime egg key coin ring candle bottle phone
book pen pencil flower rose tulip daisy lily leaf butterfly bee ladybug bird mouse frog heart
donut cookie cupcake croissant mushroom strawberry cherry grape sushi dumpling dice ball
envelope bowl plate shell acorn snowflake sunglasses glasses hat scarf crown feather fork
spoon knife teacup jar can lollipop candy gem diamond clock watch toggle button icon seed
snail spider ant crab chick kitten puppy hamster spoon chopsticks headphones earphones""".split())
# Where each scene backdrop of render/backgrounds.py draws its ground (floor, table top, sand,
# grass, road, counter): (top, bottom) as fractions of the height. Things that stand on the
# scene put their bottom edge inside this band; the table top and the porch boards start at
# 0.62, the beach sand at 0.70, the kitchen counter is the thin strip 0.60-0.67.
GROUND_BANDS = {
    "porch": (0.64, 0.98), "table": (0.64, 0.98), "field": (0.6, 0.98), "farm": (0.72, 0.98),
    "beach": (0.72, 0.98), "room": (0.72, 0.98), "kitchen": (0.6, 0.67),
    "street": (0.7, 0.98), "snow": (0.62, 0.98), "desert": (0.62, 0.98),
    "forest": (0.8, 0.98), "mountain": (0.84, 0.98), "city": (0.87, 0.98),
    "rain": (0.84, 0.98), "night": (0.84, 0.98), "sunset": (0.74, 0.98),
}
# Things usually seen in the air, which a scene's ground does not pull down.
_AIRBORNE = set("""sun moon star cloud rainbow balloon kite airplane plane jet helicopter drone
ufo comet planet firework snowflake raindrop lightning butterfly bee dragonfly bat bird eagle
hawk seagull gull crow pigeon parrot swallow""".split())
_SIZE_SCALE = {"small": 0.5, "medium": 0.75, "large": 1.0}
_HEAD_WEAR = {"hat", "cap", "crown", "helmet", "sunglasses", "glasses", "goggles",
              "headphones", "mask", "bow", "beanie", "bandana", "earmuffs", "hood"}
_NECK_WEAR = {"scarf", "tie", "bowtie", "necklace", "collar", "medal"}
_FOOT_WEAR = {"shoe", "boot", "sock", "sneaker", "slipper", "skate"}
_PLANTS = {"flower", "rose", "tulip", "sunflower", "daisy", "lily", "orchid", "bouquet",
           "branch", "stem", "plant", "fern", "lavender", "peony", "carnation"}


# --- canvas size ---------------------------------------------------------------------------------
def _round16(v: float) -> int:
    return max(SIZE_MULTIPLE, int(round(v / SIZE_MULTIPLE)) * SIZE_MULTIPLE)


def _floor16(v: float) -> int:
    return max(SIZE_MULTIPLE, int(v // SIZE_MULTIPLE) * SIZE_MULTIPLE)


def size_for_aspect(aspect: tuple[int, int] | None, scale: str | None = None) -> tuple[int, int]:
    """Canvas pixels for an aspect ratio and a scale word (rule in the module docstring).

    Args:
        aspect: ``(w, h)`` ratio or None (square).
        scale: None, "1K", "2K" or "4K".
    Returns:
        ``(width, height)`` that passes ``check_size``.
    """
    a, b = aspect if aspect and aspect[0] > 0 and aspect[1] > 0 else (1, 1)
    r = min(max(a / b, 1 / MAX_RATIO), MAX_RATIO)
    square = abs(r - 1) < 1e-9
    default = DEFAULT_SIZE[0] if square else 1536
    long = {"1K": 1024, "2K": 2048, "4K": 3840}.get(scale or "", default)
    short = _round16(long / r if r >= 1 else long * r)
    fitted = _round16(short * (r if r >= 1 else 1 / r))   # long side refit: ratio stays exact
    long = fitted if fitted <= MAX_SIDE else long
    w, h = (long, short) if r >= 1 else (short, long)
    if max(w, h) / min(w, h) > MAX_RATIO:
        w, h = (w, h + SIZE_MULTIPLE) if w > h else (w + SIZE_MULTIPLE, h)
    if w * h > MAX_AREA:
        s = math.sqrt(MAX_AREA / (w * h))
        w, h = _floor16(w * s), _floor16(h * s)
    return check_size(w, h)


def canvas_size(scene: Scene, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """Explicit ``size`` wins, then a pixel size written in the prompt (snapped to the
    rules, or used as a ratio when it cannot be), then aspect and scale words."""
    if size is not None:
        return check_size(*size)
    if scene.size is not None:
        w, h = (_round16(v) for v in scene.size)
        try:
            return check_size(w, h)
        except ValueError:
            return size_for_aspect(scene.size, "4K")
    if scene.aspect is None and scene.scale is None:
        return DEFAULT_SIZE
    return size_for_aspect(scene.aspect, scene.scale)


# --- groups and order -----------------------------------------------------------------------------
@dataclass
class _Group:
    key: str                    # "entity:0", "entity:0#b" (second half), "text:1"
    ref: str                    # the Scene ref it belongs to
    kind: str                   # entity | text
    instances: list[int] = field(default_factory=list)
    role: str = ""
    position: str | None = None
    demand: float = 1.0         # relative width wish


@dataclass
class _Order:
    """Two order graphs over grid groups: X (left to right) and Y (top to bottom).

    Each keeps its transitive closure (``reach[axis][a]``: everything after ``a``) so the
    cycle and separation checks are set lookups.
    """

    keys: list[str]
    edges: dict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: {"x": set(), "y": set()})
    dropped: list[str] = field(default_factory=list)
    reach: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reach = {ax: {k: set() for k in self.keys} for ax in ("x", "y")}

    def reaches(self, axis: str, a: str, b: str) -> bool:
        return b in self.reach[axis].get(a, ())

    def add(self, axis: str, a: str, b: str, why: str = "") -> bool:
        """Add ``a`` before ``b`` unless it would contradict what is there."""
        if a == b or a not in self.reach[axis] or b not in self.reach[axis]:
            return False
        if self.reaches(axis, b, a):
            if why:
                self.dropped.append(why)
            return False
        self.edges[axis].add((a, b))
        gained = {b} | self.reach[axis][b]
        for k, after in self.reach[axis].items():
            if k == a or a in after:
                after |= gained
        return True

    def separated(self, a: str, b: str) -> bool:
        return any(self.reaches(ax, a, b) or self.reaches(ax, b, a) for ax in ("x", "y"))

    def has_edge(self, axis: str, key: str) -> bool:
        return any(key in e for e in self.edges[axis])

    def ranks(self, axis: str) -> dict[str, int]:
        """Longest-path rank of every key (the edges form a DAG)."""
        rank = {k: 0 for k in self.keys}
        for _ in range(len(self.keys)):
            changed = False
            for a, b in self.edges[axis]:
                if rank[b] < rank[a] + 1:
                    rank[b], changed = rank[a] + 1, True
            if not changed:
                break
        return rank


def _text_width_em(content: str, script: str) -> float:
    """Rough advance width of a string in ems (bold sans): CJK full width, Latin narrower."""
    w = 0.0
    for ch in content:
        cp = ord(ch)
        if ch.isspace():
            w += 0.3
        elif cp >= 0x1100 and (0x1100 <= cp <= 0x11FF or 0x2E80 <= cp <= 0xA4CF
                               or 0xAC00 <= cp <= 0xD7AF or 0xF900 <= cp <= 0xFAFF
                               or 0xFF00 <= cp <= 0xFF60 or cp >= 0x20000):
            w += 1.0
        elif ch.isupper() or ch.isdigit():
            w += 0.68
        elif script == "Arab":
            w += 0.5
        else:
            w += 0.56
    return max(w, 0.6)


def _build_groups(scene: Scene) -> tuple[dict[str, _Group], dict[str, list[str]]]:
    """Groups per entity/text; an entity that alone anchors "between" is split in two."""
    split = {r.target for r in scene.relations
             if r.relation == "between" and r.target and not r.target2
             and r.target.startswith("entity:")}
    groups: dict[str, _Group] = {}
    by_ref: dict[str, list[str]] = {}
    for i, e in enumerate(scene.entities):
        ref = f"entity:{i}"
        inst = list(range(e.count))
        parts = [inst]
        if ref in split and e.count >= 2:
            parts = [inst[:(e.count + 1) // 2], inst[(e.count + 1) // 2:]]
        for j, part in enumerate(parts):
            key = ref if j == 0 else f"{ref}#b"
            groups[key] = _Group(key, ref, "entity", part, position=e.position,
                                 demand=min(len(part), 5) ** 0.75)
            by_ref.setdefault(ref, []).append(key)
    for i, t in enumerate(scene.texts):
        if not t.content.strip():
            continue
        ref = f"text:{i}"
        em = TEXT_EM.get(t.role, 0.05) * EMPHASIS.get(t.size, 1.0)
        demand = max(0.6, _text_width_em(t.content, t.script) * em / 0.3)
        groups[ref] = _Group(ref, ref, "text", role=t.role, position=t.position,
                             demand=min(demand, 3.0))
        by_ref[ref] = [ref]
    return groups, by_ref


def _attachments(scene: Scene, by_ref: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """child group -> (parent group, relation) for things on or in another thing."""
    parent_of: dict[str, tuple[str, str]] = {}
    for r in scene.relations:
        if r.relation in _PARENT_IS_TARGET:
            child, parent = r.subject, r.target
        elif r.relation in _PARENT_IS_SUBJECT:
            child, parent = r.target, r.subject
        else:
            continue
        if not (child and parent and child.startswith("entity:")
                and parent.startswith("entity:")):
            continue
        ckeys, pkeys = by_ref.get(child, []), by_ref.get(parent, [])
        if len(ckeys) != 1 or len(pkeys) != 1 or ckeys[0] in parent_of:
            continue
        c, p = ckeys[0], pkeys[0]
        q = p
        while q in parent_of:
            q = parent_of[q][0]
        if q != c:
            parent_of[c] = (p, r.relation)
    return parent_of


def _root(key: str, parent_of: dict[str, tuple[str, str]]) -> str:
    while key in parent_of:
        key = parent_of[key][0]
    return key


_VERTICAL = {"on": False, "above": False, "under": True, "below": True}   # True: subject lower
_X_DIRS = {"left of": False, "right of": True}


def _chains(scene: Scene, single) -> list[list[str]]:
    """Chains of groups stated one on/above another (top first), at most three long."""
    below: dict[str, str] = {}
    above: dict[str, str] = {}
    for r in scene.relations:
        if r.relation not in _VERTICAL or not r.target:
            continue
        a, b = single(r.subject), single(r.target)
        if not a or not b or a == b:
            continue
        top, bot = (b, a) if _VERTICAL[r.relation] else (a, b)
        if top in below or bot in above:
            continue
        q = bot
        while q in below and q != top:
            q = below[q]
        if q != top:
            below[top], above[bot] = bot, top
    chains = []
    for start in below:
        if start in above:
            continue
        chain = [start]
        while chain[-1] in below:
            chain.append(below[chain[-1]])
        if len(chain) <= 3:
            chains.append(chain)
    return chains


def _stack_ok(scene: Scene, chain: list[str], keys_of, positions: dict) -> bool:
    """A chain becomes one grid cell only if no stated fact needs something between its
    members: every other group lies on one side of the whole chain, on each axis."""
    members = set(chain)
    sides: dict[tuple[str, str], set[bool]] = {}
    for r in scene.relations:
        if r.relation == "between":
            found = [set(keys_of(x)) & members for x in (r.subject, r.target, r.target2)]
            if sum(bool(f) for f in found) > 1:
                return False
            continue
        table = _VERTICAL if r.relation in _VERTICAL else _X_DIRS if r.relation in _X_DIRS \
            else None
        if table is None or not r.target:
            continue
        sa, sb = set(keys_of(r.subject)), set(keys_of(r.target))
        axis = "y" if table is _VERTICAL else "x"
        if sa & members and sb & members:
            if axis == "x":
                return False
            continue
        if not (sa & members or sb & members):
            continue
        member_first = not table[r.relation] if sa & members else table[r.relation]
        for o in (sb if sa & members else sa):
            sides.setdefault((axis, o), set()).add(member_first)
    if any(len(v) > 1 for v in sides.values()):
        return False
    hs = {_split_position(positions.get(m))[0] for m in chain} - {None}
    vs = [_split_position(positions.get(m))[1] for m in chain]
    return len(hs) <= 1 and all(v in (None, "top") for v in vs[:1]) and \
        all(v is None for v in vs[1:-1]) and vs[-1] in (None, "bottom")


def _stacks(scene: Scene, groups: dict[str, _Group], by_ref: dict[str, list[str]],
            parent_of: dict) -> dict[str, list[str]]:
    """Groups stated on/above/under/below each other share one grid cell, split top to
    bottom, so they line up ("a cup on a table", "four birds above a mountain")."""
    def single(ref: str | None) -> str | None:
        ks = by_ref.get(ref or "", [])
        if len(ks) == 1 and (ref or "").startswith("entity:") and ks[0] not in parent_of:
            return ks[0]
        return None

    def keys_of(ref: str | None) -> list[str]:
        return [_root(k, parent_of) for k in by_ref.get(ref or "", [])]

    positions = {k: g.position for k, g in groups.items()}
    chains = [c for c in _chains(scene, single) if _stack_ok(scene, c, keys_of, positions)]
    return {f"stack:{i}": c for i, c in enumerate(chains)}


def _stack_groups(groups: dict[str, _Group], stacks: dict[str, list[str]],
                  parent_of: dict) -> dict[str, _Group]:
    """The groups the grid places: free groups and one group per stack."""
    members = {m for c in stacks.values() for m in c}
    grid = {k: g for k, g in groups.items() if k not in parent_of and k not in members}
    for key, chain in stacks.items():
        pos = next((groups[m].position for m in chain if groups[m].position), None)
        h = _split_position(pos)[0]
        top_v = _split_position(groups[chain[0]].position)[1]
        bottom_v = _split_position(groups[chain[-1]].position)[1]
        v = top_v or bottom_v
        grid[key] = _Group(key, "", "entity", position=" ".join(p for p in (v, h) if p) or None,
                           demand=max(groups[m].demand for m in chain))
    return grid


def _split_stacks(scene: Scene, groups: dict[str, _Group], stacks: dict[str, list[str]],
                  cells: dict[str, Rect]) -> dict[str, Rect]:
    """Member cells of each stack: its cell cut top to bottom by typical sizes."""
    out: dict[str, Rect] = {}
    for key, chain in stacks.items():
        x0, y0, x1, y1 = cells[key]
        weights = []
        for m in chain:
            e = scene.entities[int(groups[m].ref.split(":")[1])]
            rows = math.ceil(len(groups[m].instances) / 3)
            weights.append(_SIZE_SCALE[_size_class(e.label, e.size)] * (1 + 0.3 * (rows - 1)))
        total, y = sum(weights), y0
        for m, w in zip(chain, weights):
            h = (y1 - y0) * w / total
            out[m] = (x0, y, x1, y + h)
            y += h
    return out


_AXIS = {"left of": ("x", False), "right of": ("x", True), "above": ("y", False),
         "on": ("y", False), "below": ("y", True), "under": ("y", True)}
_ABSOLUTE = {"left of": "left", "right of": "right", "above": "top", "below": "bottom"}


def _split_position(pos: str | None) -> tuple[str | None, str | None]:
    if not pos:
        return None, None
    parts = pos.split()
    h = next((p for p in parts if p in ("left", "right")), None)
    v = next((p for p in parts if p in ("top", "bottom")), None)
    if pos == "center":
        return "center", "center"
    return h, v


def _relation_edges(scene: Scene, order: _Order, keys, rng: random.Random,
                    deferred: list) -> dict[str, str]:
    """Stated relations -> order edges between grid groups (``keys(ref)`` names them).

    Returns absolute placements stated as relations; "beside" pairs go to ``deferred``
    (their side is free, so positions choose it first).
    """
    absolute: dict[str, str] = {}
    for r in scene.relations:
        why = f"{r.subject} {r.relation} {r.target}"
        subj = keys(r.subject)
        if r.target is None:
            for k in subj:
                absolute.setdefault(k, _ABSOLUTE.get(r.relation, ""))
            continue
        tgt = keys(r.target)
        if r.relation in _AXIS:
            axis, flip = _AXIS[r.relation]
            for a in subj:
                for b in tgt:
                    order.add(axis, *((b, a) if flip else (a, b)), why=why)
        elif r.relation in ("beside", "next to"):
            deferred.append((subj, tgt, why))
        elif r.relation == "between":
            sides = [tgt, keys(r.target2)] if r.target2 else [[k] for k in tgt]
            if len(sides) == 2 and all(sides):
                left, right = sides if rng.random() < 0.5 else sides[::-1]
                for a in subj:
                    for b in left:
                        order.add("x", b, a, why=why)
                    for b in right:
                        order.add("x", a, b, why=why)
    return absolute


def _beside_edges(order: _Order, deferred: list, rng: random.Random) -> None:
    """"beside": a seeded side, unless the order already implies one."""
    for subj, tgt, why in deferred:
        first = rng.random() < 0.5
        for a in subj:
            for b in tgt:
                if a != b and not order.add("x", *((a, b) if first else (b, a))):
                    order.add("x", *((b, a) if first else (a, b)), why=why)


def _position_edges(groups: dict[str, _Group], order: _Order, absolute: dict[str, str]) -> None:
    """"on the left" puts a group left of every group that is not also on the left."""
    pos = {k: _split_position(groups[k].position or absolute.get(k)) for k in order.keys}
    for k in order.keys:
        h, v = pos[k]
        for o in order.keys:
            if o == k:
                continue
            ho, vo = pos[o]
            why = f"{k} at {groups[k].position}"
            if h == "left" and ho != "left":
                order.add("x", k, o, why=why)
            if h == "right" and ho != "right":
                order.add("x", o, k, why=why)
            if v == "top" and vo != "top":
                order.add("y", k, o, why=why)
            if v == "bottom" and vo != "bottom":
                order.add("y", o, k, why=why)


def _is_title(g: _Group) -> bool:
    return g.kind == "text" and g.role in ("title", "heading", "subtitle")


def _soft_choice(a: _Group, b: _Group, slot: dict[str, tuple[int, int]]) -> tuple[str, str, str]:
    """Default order of two groups no stated fact orders: titles above, captions and
    free text below objects, labels in a row, objects on a seed-shuffled grid."""
    if _is_title(a) != _is_title(b):
        t, o = (a, b) if _is_title(a) else (b, a)
        return "y", t.key, o.key
    if a.kind == "text" and b.kind == "text":
        axis = "x" if a.role == b.role == "label" else "y"
        return axis, a.key, b.key
    if a.kind != b.kind:
        t, o = (a, b) if a.kind == "text" else (b, a)
        return "y", o.key, t.key
    (ra, ca), (rb, cb) = slot[a.key], slot[b.key]
    if ra != rb:
        return ("y", a.key, b.key) if ra < rb else ("y", b.key, a.key)
    return ("x", a.key, b.key) if ca < cb else ("x", b.key, a.key)


def _soft_edges(groups: dict[str, _Group], order: _Order, rng: random.Random,
                wide: bool, floor: bool = False) -> None:
    """Default edges; ``floor``: the backdrop has a ground, so up to six object groups
    stand side by side on it instead of stacking (a tall canvas would stack them)."""
    ents = [k for k in order.keys if groups[k].kind == "entity"]
    perm = ents[:]
    rng.shuffle(perm)
    n = len(perm)
    cols = (n if wide else 1) if n <= 3 else max(1, round(math.sqrt(n * (1.6 if wide else 0.6))))
    if floor and n <= 6:
        cols = n
    slot = {k: divmod(i, cols) for i, k in enumerate(perm)}

    index = {k: i for i, k in enumerate(order.keys)}

    def rank(pair: tuple[str, str]) -> tuple[int, int, int]:
        ga, gb = groups[pair[0]], groups[pair[1]]
        titles = _is_title(ga) or _is_title(gb)
        texts = (ga.kind == "text") + (gb.kind == "text")
        return (0 if titles else 3 - texts, index[pair[0]], index[pair[1]])

    pairs = [(a, b) for i, a in enumerate(order.keys) for b in order.keys[i + 1:]]
    for a, b in sorted(pairs, key=rank):
        if not order.separated(a, b):
            order.add(*_soft_choice(groups[a], groups[b], slot))


# --- geometry -------------------------------------------------------------------------------------
Rect = tuple[float, float, float, float]
_CJK_SCRIPTS = ("Hans", "Hant", "Jpan")


@dataclass(frozen=True)
class _TextFit:
    em: float          # pixels
    lines: int
    width: float       # pixels
    height: float      # pixels


def fit_text(content: str, script: str, role: str, avail_w: float, avail_h: float | None,
             canvas: tuple[int, int], size: str | None = None) -> _TextFit:
    """Font size and line count of a text for the space it may use (all in pixels).

    The role sets the size (TEXT_EM, scaled by a stated ``size``: "large" | "small"); long
    strings wrap (at spaces, or between words for Chinese/Japanese) before they shrink:
    titles to at most three lines, body copy, bullets and captions to as many as keep the
    role's size (the box grows).
    """
    w, h = canvas
    em0 = TEXT_EM.get(role, 0.05) * EMPHASIS.get(size, 1.0) * math.sqrt(w * h)
    width_em = _text_width_em(content, script)
    units = len(content) if script in _CJK_SCRIPTS else len(content.split())
    most = _MAX_LINES.get(role, max(3, min(12, math.ceil(width_em * em0 / max(avail_w, 1.0)))))
    best: tuple[float, _TextFit] | None = None
    for lines in range(1, most + 1):
        if lines > 1 and units < lines:
            break
        line_em = width_em / lines * (1.0 if lines == 1 else 1.12)
        em = min(em0, 0.94 * avail_w / line_em)
        if avail_h is not None:
            em = min(em, avail_h / (lines * 1.3 + 0.3))
        # the box is as wide as the type needs, so fitting again in it gives the same size
        fit = _TextFit(em, lines, min(avail_w, line_em * em / 0.94 + 0.5 * em),
                       (lines * 1.3 + 0.3) * em)
        score = em * (1 - 0.06 * (lines - 1))
        if best is None or score > best[0] + 1e-9:
            best = (score, fit)
    target = min(em0, LEGIBLE_EM * math.sqrt(w * h))
    fit = best[1]
    # Still too small on its role's lines: a paragraph. Add lines (a taller box) until the
    # type is legible or no longer grows.
    for lines in range(most + 1, min(units, MAX_TEXT_LINES) + 1):
        if fit.em >= target:
            break
        line_em = width_em / lines * 1.12
        em = min(em0, 0.94 * avail_w / line_em)
        if avail_h is not None:
            em = min(em, avail_h / (lines * 1.3 + 0.3))
        if em <= fit.em + 1e-9:
            if avail_h is not None:
                break
            continue
        fit = _TextFit(em, lines, min(avail_w, line_em * em / 0.94 + 0.5 * em),
                       (lines * 1.3 + 0.3) * em)
    return fit


def _intervals(weights: list[float], start: float, span: float,
               gap: float) -> list[tuple[float, float]]:
    total = sum(weights) or 1.0
    gap = min(gap, span * 0.3 / max(len(weights) - 1, 1))    # many cells: thinner gaps
    usable = span - gap * (len(weights) - 1)
    out, x = [], start
    for wgt in weights:
        size = usable * wgt / total
        out.append((x, x + size))
        x += size + gap
    return out


def _grid(scene: Scene, groups: dict[str, _Group], order: _Order, canvas: tuple[int, int],
          rng: random.Random) -> dict[str, Rect]:
    """One cell per grid group: columns from X ranks, rows from Y ranks."""
    W, H = canvas
    rx, ry = order.ranks("x"), order.ranks("y")
    ncol, nrow = max(rx.values(), default=0) + 1, max(ry.values(), default=0) + 1
    m = rng.uniform(0.04, 0.07) * min(W, H)
    gap = rng.uniform(0.025, 0.045) * min(W, H)
    mx, my, gx, gy = m / W, m / H, gap / W, gap / H
    spans = {k: not order.has_edge("x", k) for k in order.keys}
    col_w = [max([groups[k].demand for k in order.keys if rx[k] == c and not spans[k]],
                 default=1.0) * rng.uniform(0.85, 1.15) for c in range(ncol)]
    cols = _intervals(col_w, mx, 1 - 2 * mx, gx)
    xspan = {k: (mx, 1 - mx) if spans[k] else cols[rx[k]] for k in order.keys}
    row_need, flexible = [], []
    for r in range(nrow):
        members = [k for k in order.keys if ry[k] == r]
        if members and all(groups[k].kind == "text" for k in members):
            need = 0.0
            for k in members:
                t = scene.texts[int(k.split(":")[1])]
                a, b = xspan[k]
                need = max(need, fit_text(t.content, t.script, t.role, (b - a) * W, None,
                                          canvas, t.size).height / H)
            row_need.append(need + gy * 0.5)
            flexible.append(False)
        else:
            row_need.append(rng.uniform(0.85, 1.15))
            flexible.append(True)
    inner = 1 - 2 * my - gy * (nrow - 1)
    fixed = sum(n for n, f in zip(row_need, flexible) if not f)
    if any(flexible):
        room = max(inner - fixed, 0.4 * inner)
        shrink = min(1.0, (inner - room) / fixed) if fixed else 1.0
        flex_total = sum(n for n, f in zip(row_need, flexible) if f)
        heights = [n * room / flex_total if f else n * shrink for n, f in zip(row_need, flexible)]
    else:
        # Only text: the lines keep their own height plus some air and stand as one block,
        # centred, instead of spreading over the whole canvas
        heights = [n * min(inner / fixed, 1.6) for n in row_need]
        gap = gy * min(1.0, inner / fixed)
        span = sum(heights) + gap * (nrow - 1)
        top = my + (1 - 2 * my - span) / 2
        rows = _intervals(heights, top, span, gap)
        return {k: (xspan[k][0], rows[ry[k]][0], xspan[k][1], rows[ry[k]][1])
                for k in order.keys}
    rows = _intervals(heights, my, 1 - 2 * my, gy)
    return {k: (xspan[k][0], rows[ry[k]][0], xspan[k][1], rows[ry[k]][1]) for k in order.keys}


def _clamp_box(box: Rect, within: Rect = (0.0, 0.0, 1.0, 1.0)) -> Rect:
    x0, y0, x1, y1 = box
    a0, b0, a1, b1 = within
    w, h = min(x1 - x0, a1 - a0), min(y1 - y0, b1 - b0)
    x0 = min(max(x0, a0), a1 - w)
    y0 = min(max(y0, b0), b1 - h)
    return (x0, y0, x0 + w, y0 + h)


def _size_class(label: str, stated: str | None) -> str:
    if stated in _SIZE_SCALE:
        return stated
    head = _head(label)
    return "large" if head in _LARGE else "small" if head in _SMALL else "medium"


def _size_factors(scene: Scene) -> list[float]:
    """Per entity, its typical size relative to the largest kind in the picture (a lone
    cup still fills its space; a cup beside a table does not)."""
    classes = [_size_class(e.label, e.size) for e in scene.entities]
    top = max((_SIZE_SCALE[c] for c in classes), default=1.0)
    return [_SIZE_SCALE[c] / top for c in classes]


def _label_aspect(label: str) -> float:
    words = label.split()
    head = words[0] if len(words) > 2 and words[1] == "of" else words[-1]
    return _ASPECTS.get(head, 1.0)


def place_instances(cell: Rect, n: int, aspect: float, canvas: tuple[int, int],
                    rng: random.Random, valign: str | None = None,
                    scale: float = 1.0, cols: int | None = None) -> list[Rect]:
    """n boxes of a pixel aspect (w/h) inside ``cell``, in the grid shape that makes them
    largest (a seeded pick among near-best shapes), each jittered inside its slot;
    ``valign`` "bottom"/"top" rests them on their slot's bottom/top edge instead; ``scale``
    shrinks them for things that are small next to the others; ``cols`` fixes the number
    of columns (a bouquet is one row)."""
    W, H = canvas
    cw, ch = (cell[2] - cell[0]) * W, (cell[3] - cell[1]) * H
    options = []
    for c in range(1, n + 1):      # not ``cols``: that is the caller's fixed choice
        bw = _slot_width(cw, ch, n, aspect, c)
        options.append((bw * bw / aspect, c, math.ceil(n / c)))
    best = max(o[0] for o in options)
    _, pick, rows = rng.choice([o for o in options if o[0] >= 0.8 * best])
    cols = min(cols, n) if cols else pick
    rows = math.ceil(n / cols)
    sw, sh = cw / cols, ch / rows
    bw = min(sw * 0.9, sh * 0.9 * aspect)
    boxes = []
    for i in range(n):
        r, c = divmod(i, cols)
        in_row = min(cols, n - r * cols)
        off = (cols - in_row) * sw / 2
        s = rng.uniform(0.78, 1.0) * scale
        w, h = bw * s, bw * s / aspect
        spread = 0.8 if n > 1 else 0.35      # a lone object stays near the middle
        cx = cell[0] * W + off + (c + 0.5) * sw + rng.uniform(-spread, spread) * (sw - w) / 2
        cy = cell[1] * H + (r + 0.5) * sh + rng.uniform(-spread, spread) * (sh - h) / 2
        if valign == "bottom":
            cy = cell[1] * H + (r + 1) * sh - h / 2
        elif valign == "top":
            cy = cell[1] * H + r * sh + h / 2
        box = ((cx - w / 2) / W, (cy - h / 2) / H, (cx + w / 2) / W, (cy + h / 2) / H)
        boxes.append(_clamp_box(box, cell))
    return boxes


def _sub(box: Rect, fx0: float, fy0: float, fx1: float, fy1: float) -> Rect:
    """The part of ``box`` between fractions (fx0, fy0) and (fx1, fy1) of its size."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return (x0 + fx0 * w, y0 + fy0 * h, x0 + fx1 * w, y0 + fy1 * h)


def _union(boxes: list[Rect]) -> Rect:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))


def _head(label: str) -> str:
    words = label.split()
    return words[0] if len(words) > 2 and words[1] == "of" else words[-1]


def _parent_area(cell: Rect, modes: set[str]) -> Rect:
    """Where a parent's own instances go when children must fit around or above them."""
    if "around" in modes:
        return _sub(cell, 0.25, 0.25, 0.75, 0.75)
    if "in:above" in modes:
        return _sub(cell, 0.1, 0.4, 0.9, 1.0)
    if "behind" in modes:
        return _sub(cell, 0.0, 0.3, 1.0, 1.0)
    return cell


def _wear_region(child_head: str, relation: str, mirror: bool) -> tuple[float, float, float, float]:
    if relation == "holding":
        return (0.02, 0.45, 0.42, 0.85) if mirror else (0.58, 0.45, 0.98, 0.85)
    if child_head in _HEAD_WEAR:
        return (0.2, 0.08, 0.8, 0.38) if child_head not in ("hat", "cap", "crown", "helmet") \
            else (0.2, 0.0, 0.8, 0.25)
    if child_head in _NECK_WEAR:
        return (0.3, 0.35, 0.7, 0.55)
    if child_head in _FOOT_WEAR:
        return (0.15, 0.8, 0.85, 1.0)
    return (0.2, 0.3, 0.8, 0.85)


def _child_boxes(label: str, n: int, relation: str, parent: list[Rect], cell: Rect,
                 canvas: tuple[int, int], rng: random.Random) -> list[Rect]:
    """Boxes of attached instances, inside their parent's cell."""
    aspect = _label_aspect(label)
    union = _union(parent)
    if relation in _PARENT_IS_SUBJECT:
        mirror = rng.random() < 0.5
        region = _wear_region(_head(label), relation, mirror)
        if n == len(parent) or n < len(parent):
            return [place_instances(_sub(parent[i], *region), 1, aspect, canvas, rng)[0]
                    for i in range(n)]
        return place_instances(_sub(union, *region), n, aspect, canvas, rng)
    if relation == "around":
        cx, cy = (cell[0] + cell[2]) / 2, (cell[1] + cell[3]) / 2
        rw, rh = (cell[2] - cell[0]) * 0.38, (cell[3] - cell[1]) * 0.38
        size_w, size_h = (cell[2] - cell[0]) * 0.2, (cell[3] - cell[1]) * 0.2
        start = rng.uniform(0, 2 * math.pi)
        out = []
        for i in range(n):
            a = start + 2 * math.pi * i / n
            x, y = cx + rw * math.cos(a), cy + rh * math.sin(a)
            out.append(_clamp_box((x - size_w / 2, y - size_h / 2, x + size_w / 2,
                                   y + size_h / 2), cell))
        return out
    if relation == "in" and _head(label) in _PLANTS:
        w, h = union[2] - union[0], union[3] - union[1]
        region = (union[0] - 0.15 * w, union[1] - 0.5 * h, union[2] + 0.15 * w,
                  union[1] + 0.2 * h)
        return place_instances(_clamp_box(region, cell), n, aspect, canvas, rng, "bottom", cols=n)
    if relation == "in":
        return place_instances(_sub(union, 0.15, 0.25, 0.85, 0.9), n, aspect, canvas, rng)
    if relation == "in front of":
        return place_instances(_sub(union, 0.05, 0.45, 0.95, 1.0), n, aspect, canvas, rng)
    region = (union[0], cell[1], union[2], union[1] + (union[3] - union[1]) * 0.4)
    return place_instances(_clamp_box(region, cell), n, aspect, canvas, rng)


# --- colours and the Plan -------------------------------------------------------------------------
def _rgb(color: str | None) -> tuple[int, int, int] | None:
    if not color:
        return None
    import webcolors

    try:
        if color.startswith("#"):
            return tuple(webcolors.hex_to_rgb(color))
        return tuple(webcolors.name_to_rgb(color))
    except ValueError:
        return None


def _luminance(rgb: tuple[int, int, int]) -> float:
    def lin(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def background_color(bg: Background) -> str:
    """The colour a background mostly shows (for text contrast)."""
    from planner.lexicon import SCENE_COLORS

    if bg.kind == "transparent":
        return "#ffffff"
    if bg.kind == "gradient" and bg.colors:
        rgbs = [c for c in (_rgb(x) for x in bg.colors) if c]
        if rgbs:
            avg = tuple(int(sum(c[i] for c in rgbs) / len(rgbs)) for i in range(3))
            return "#%02x%02x%02x" % avg
    if bg.color:
        return bg.color
    return SCENE_COLORS.get(bg.scene or "", DEFAULT_BACKGROUND)


def contrast_color(bg: str) -> str:
    """Near-black on light backgrounds, white on dark ones (WCAG relative luminance)."""
    rgb = _rgb(bg) or (244, 241, 234)
    return "#ffffff" if _luminance(rgb) < 0.3 else "#1f2430"


def _resolve_background(scene: Scene, background: str) -> Background:
    asked = scene.background
    if background == "transparent":
        return Background(kind="transparent", description="transparent background requested")
    if asked is None or background == "opaque" and asked.kind == "transparent":
        return Background(kind="color", color=_default_backdrop(scene))
    return asked


DARK_BACKGROUND = "#1f2430"


def _default_backdrop(scene: Scene) -> str:
    """The canvas colour when the prompt names none: light linen, or a dark ink when a text
    colour the prompt asked for is light and none is dark (white or yellow text needs a dark
    ground)."""
    asked = [_rgb(t.color) for t in scene.texts if t.color]
    lums = [_luminance(c) for c in asked if c is not None]
    if lums and max(lums) > 0.5 and min(lums) > 0.08:
        return DARK_BACKGROUND
    return DEFAULT_BACKGROUND


def _slug(label: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in label.lower()).split()) \
        or "object"


def _ordered_keys(groups: dict[str, _Group], parent_of: dict) -> list[str]:
    """Parents before children, so attached boxes can follow their parent's."""
    done: list[str] = []
    for k in groups:
        chain = [k]
        while chain[-1] in parent_of:
            chain.append(parent_of[chain[-1]][0])
        for c in reversed(chain):
            if c not in done:
                done.append(c)
    return done


def _text_box(scene: Scene, g: _Group, cell: Rect, canvas: tuple[int, int],
              rng: random.Random) -> Rect:
    """A text box sized for its content inside its cell, aligned by its stated side."""
    W, H = canvas
    t = scene.texts[int(g.key.split(":")[1])]
    cw, ch = (cell[2] - cell[0]) * W, (cell[3] - cell[1]) * H
    fit = fit_text(t.content, t.script, t.role, cw, ch, canvas, t.size)
    w, h = fit.width / W, fit.height / H
    h_pos, _ = _split_position(t.position)
    if h_pos == "left":
        x0 = cell[0]
    elif h_pos == "right":
        x0 = cell[2] - w
    else:
        x0 = (cell[0] + cell[2] - w) / 2
    free = (cell[3] - cell[1]) - h
    y0 = cell[1] + free / 2 + rng.uniform(-0.3, 0.3) * free
    return _clamp_box((x0, y0, x0 + w, y0 + h), cell)


def _resting(scene: Scene, groups: dict[str, _Group], parent_of: dict) -> dict[str, str]:
    """"a cup on a table": the cup rests on its cell's bottom, the table on its top, so
    the two meet across the row gap instead of floating apart."""
    keys: dict[str, list[str]] = {}
    for k, g in groups.items():
        keys.setdefault(g.ref, []).append(_root(k, parent_of))
    align: dict[str, str] = {}
    for r in scene.relations:
        if r.relation == "on" and r.target:
            for k in keys.get(r.subject, []):
                align.setdefault(k, "bottom")
            for k in keys.get(r.target, []):
                align.setdefault(k, "top")
    return align


def _grounded(scene: Scene, grid: dict[str, _Group], order: _Order,
              bg: Background) -> dict[str, tuple[str, tuple[float, float]]]:
    """Grid groups that stand on the backdrop's ground band or fly above it.

    On a scene with a ground (GROUND_BANDS) an entity group rests on the band unless
    something is stated or laid out below it (the ground is the lowest thing) or the prompt
    gave it a vertical position; a thing of the air (moon, kite, bird) goes above the
    horizon instead. Both only move a group inside its own cell, and cells ordered on an
    axis do not overlap on it, so every relation still holds.

    Returns:
        ``{grid key: ("ground" | "sky", (band top, band bottom))}``.
    """
    band = GROUND_BANDS.get(bg.scene or "") if bg.kind == "scene" else None
    if band is None:
        return {}
    out = {}
    for k, g in grid.items():
        if g.kind != "entity" or not g.ref:
            continue
        e = scene.entities[int(g.ref.split(":")[1])]
        _, v_pos = _split_position(e.position)
        if v_pos or e.position == "center":
            continue           # the prompt said where it goes
        if _head(e.label) in _AIRBORNE:
            out[k] = ("sky", band)          # the part of its cell above the horizon
        elif not order.reach["y"].get(k):
            out[k] = ("ground", band)       # nothing below it: on the ground
    return out


def _in_sky(area: Rect, band: tuple[float, float]) -> Rect:
    """The part of ``area`` above the horizon, when there is a useful amount of it."""
    x0, y0, x1, y1 = area
    return (x0, y0, x1, band[0]) if band[0] - y0 >= 0.15 else area


def _slot_width(cw: float, ch: float, n: int, aspect: float, cols: int) -> float:
    """Pixel width of one instance when n of them fill a cw x ch area in ``cols`` columns."""
    rows = math.ceil(n / cols)
    return min(cw / cols * 0.9, ch / rows * 0.9 * aspect)


def ground_instances(area: Rect, band: tuple[float, float], n: int, aspect: float,
                     canvas: tuple[int, int], rng: random.Random,
                     scale: float = 1.0) -> list[Rect] | None:
    """n instances standing on a ground band: every bottom edge inside ``band``.

    Either one row whose bottoms sit on the band (tall things may rise above the horizon)
    or, when that would make them much smaller, rows packed inside the band itself (front
    and back rows on the floor), whichever gives the larger instances.

    Args:
        area: where the group may go (its cell), normalised.
        band: (top, bottom) of the ground as fractions of the height.
        n, aspect, canvas, rng, scale: as for ``place_instances``.
    Returns:
        The boxes, or None when ``area`` does not reach the ground.
    """
    W, H = canvas
    x0, y0, x1, y1 = area
    bottom = min(y1, band[1])
    top = max(y0, band[0])
    if bottom < band[0] + 0.02:
        return None
    cw = (x1 - x0) * W
    one_row = _slot_width(cw, (bottom - y0) * H, n, aspect, n)
    in_band = max(_slot_width(cw, (bottom - top) * H, n, aspect, c) for c in range(1, n + 1))
    if one_row >= in_band:
        return place_instances((x0, y0, x1, bottom), n, aspect, canvas, rng, "bottom", scale,
                               cols=n)
    return place_instances((x0, top, x1, bottom), n, aspect, canvas, rng, "bottom", scale)


def _place_all(scene: Scene, groups: dict[str, _Group], parent_of: dict,
               cells: dict[str, Rect], canvas: tuple[int, int], rng: random.Random,
               ground: dict[str, tuple[str, tuple[float, float]]]) -> dict[str, list[Rect]]:
    """Boxes for every group: texts, grid entities (standing on ``ground`` bands where
    given), then attached children."""
    modes: dict[str, set[str]] = {}
    for c, (p, rel) in parent_of.items():
        label = scene.entities[int(groups[c].ref.split(":")[1])].label
        modes.setdefault(p, set()).add(
            "in:above" if rel == "in" and _head(label) in _PLANTS else rel)
    valign = _resting(scene, groups, parent_of)
    factors = _size_factors(scene)
    boxes: dict[str, list[Rect]] = {}
    for k in _ordered_keys(groups, parent_of):
        g = groups[k]
        cell = cells[_root(k, parent_of)]
        if g.kind == "text":
            boxes[k] = [_text_box(scene, g, cell, canvas, rng)]
            continue
        label = scene.entities[int(g.ref.split(":")[1])].label
        if k in parent_of:
            p, rel = parent_of[k]
            boxes[k] = _child_boxes(label, len(g.instances), rel, boxes[p], cell, canvas, rng)
        else:
            area = _parent_area(cell, modes.get(k, set()))
            factor = factors[int(g.ref.split(":")[1])]
            where, band = ground.get(k, ("", (0.0, 1.0)))
            stand = ground_instances(area, band, len(g.instances), _label_aspect(label),
                                     canvas, rng, factor) if where == "ground" else None
            area = _in_sky(area, band) if where == "sky" else area
            boxes[k] = stand or place_instances(area, len(g.instances), _label_aspect(label),
                                                canvas, rng, valign.get(k), factor)
    return boxes


def _depth(key: str, parent_of: dict) -> int:
    z = 1
    while key in parent_of:
        key, rel = parent_of[key]
        z += -1 if rel == "behind" else 1
    return max(z, 0)


def _safe_box(box: Rect) -> Rect:
    """Round to 4 decimals, keeping a non-empty box inside [0, 1] (crowded canvases)."""
    x0, y0, x1, y1 = (min(max(round(v, 4), 0.0), 1.0) for v in box)
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    if x1 - x0 < 1e-4:
        x0, x1 = (x0, x0 + 1e-4) if x0 + 1e-4 <= 1 else (1 - 1e-4, 1.0)
    if y1 - y0 < 1e-4:
        y0, y1 = (y0, y0 + 1e-4) if y0 + 1e-4 <= 1 else (1 - 1e-4, 1.0)
    return (x0, y0, x1, y1)


def _elements(scene: Scene, groups: dict[str, _Group], parent_of: dict,
              boxes: dict[str, list[Rect]], bg: Background, canvas: tuple[int, int]) -> list:
    """Object elements (subject ids from labels, in entity order) then text elements."""
    out: list = []
    seen: dict[str, int] = {}
    r4 = _safe_box
    for i, e in enumerate(scene.entities):
        ref = f"entity:{i}"
        inst_boxes: dict[int, tuple[Rect, int]] = {}
        for k, g in groups.items():
            if g.ref == ref:
                for j, box in zip(g.instances, boxes[k]):
                    inst_boxes[j] = (box, _depth(k, parent_of))
        slug = _slug(e.label)
        for j in range(e.count):
            seen[slug] = seen.get(slug, 0) + 1
            sid = e.subject_id if e.subject_id and e.count == 1 else f"{slug}-{seen[slug]}"
            box, z = inst_boxes[j]
            out.append(ObjectElement(id=f"{slug}-{seen[slug]}", box=r4(box), z=z,
                                     label=e.label, color=e.color, description=e.description,
                                     subject_id=sid, reference=e.reference))
    n = 0
    taken = {el.id for el in out}
    for i, t in enumerate(scene.texts):
        key = f"text:{i}"
        if key not in boxes:
            continue
        n += 1
        while f"text-{n}" in taken:      # an object labelled "text" took this id
            n += 1
        h_pos, _ = _split_position(t.position)
        out += text_elements(t, boxes[key][0], f"text-{n}", bg, canvas,
                             align=h_pos if h_pos in ("left", "right") else "center")
    return out


def text_elements(t, box: Rect, eid: str, bg: Background, canvas: tuple[int, int],
                  align: str = "center", z: int = 10) -> list:
    """The TextElement of one TextItem in ``box`` (its type size from the role, its weight
    from the role unless stated), plus the circle or badge it is set in, if any: the text
    box shrinks to fit inside the frame."""
    W, H = canvas
    out: list = []
    if t.frame:
        box, frame = _framed(box, canvas)
        align = "center"
        out.append(ShapeElement(id=f"{eid}-{t.frame}", box=_safe_box(frame), z=z - 1,
                                shape=t.frame, color=t.frame_color or _accent(bg),
                                label=t.content))
    fit = fit_text(t.content, t.script, t.role, (box[2] - box[0]) * W, (box[3] - box[1]) * H,
                   canvas, t.size)
    weight = t.weight or ("bold" if t.role in ("title", "heading", "price") else "regular")
    text_default = contrast_color(background_color(bg))
    out.append(TextElement(id=eid, box=_safe_box(box), z=z, content=t.content,
                           script=t.script, color=t.color or (
                               contrast_color(_hex(t.frame_color) or _accent(bg)) if t.frame
                               else text_default),
                           font=t.font, weight=weight, align=align, role=t.role,
                           font_size=round(min(max(fit.em / H, 1e-4), 1.0), 5),
                           split=t.split))
    return out


def _framed(box: Rect, canvas: tuple[int, int]) -> tuple[Rect, Rect]:
    """A circle (square box, pixels) around a text box, and the text box inside it: the
    text's box is shrunk, if needed, so the circle fits the canvas."""
    W, H = canvas
    x0, y0, x1, y1 = box[0] * W, box[1] * H, box[2] * W, box[3] * H
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    d = math.hypot(w, h) * 1.12
    room = 2 * min(cx, cy, W - cx, H - cy)
    k = min(1.0, room / d) if d > 0 else 1.0
    d, w, h = d * k, w * k, h * k
    text = ((cx - w / 2) / W, (cy - h / 2) / H, (cx + w / 2) / W, (cy + h / 2) / H)
    frame = ((cx - d / 2) / W, (cy - d / 2) / H, (cx + d / 2) / W, (cy + d / 2) / H)
    return _clamp_box(text), _clamp_box(frame)


def _hex(color: str | None) -> str | None:
    rgb = _rgb(color)
    return None if rgb is None else "#%02x%02x%02x" % rgb


def _accent(bg: Background) -> str:
    """A colour that stands out from the background: for frames, bars and buttons."""
    return "#e4572e" if _luminance(_rgb(background_color(bg)) or (255, 255, 255)) > 0.2 \
        else "#f2c14e"


def _ordered(scene: Scene, groups: dict[str, _Group], by_ref: dict[str, list[str]],
             parent_of: dict, stacks: dict[str, list[str]], seed: int,
             canvas: tuple[int, int],
             floor: bool = False) -> tuple[random.Random, dict[str, _Group], _Order]:
    """The grid groups and their X/Y order: stated relations, positions, then defaults."""
    rng = random.Random(seed)
    member_of = {m: key for key, chain in stacks.items() for m in chain}
    grid = _stack_groups(groups, stacks, parent_of)

    def owners(ref: str | None) -> list[str]:
        found = (_root(k, parent_of) for k in by_ref.get(ref or "", []))
        return list(dict.fromkeys(member_of.get(k, k) for k in found))

    order = _Order(list(grid))
    deferred: list = []
    absolute = _relation_edges(scene, order, owners, rng, deferred)
    _position_edges(grid, order, absolute)
    _beside_edges(order, deferred, rng)
    _soft_edges(grid, order, rng, wide=canvas[0] >= 0.9 * canvas[1], floor=floor)
    return rng, grid, order


def _nothing_to_draw(prompt: str) -> str:
    """Why a prompt gave an empty Plan, and what to say instead (never a blank image)."""
    import unicodedata

    emoji = list(dict.fromkeys(ch for ch in prompt if unicodedata.category(ch) == "So"))
    msg = ("the prompt names nothing to draw: no object, quoted text or backdrop was "
           "understood; describe the picture in words")
    if emoji:
        named = ", ".join(f"{ch} = {unicodedata.name(ch, '?').lower()}" for ch in emoji[:3])
        msg += f" (its emoji: {named})"
    return msg


def solve(scene: Scene, *, size: tuple[int, int] | None = None, seed: int = 0,
          background: str = "auto", quality: str = "auto", planner: str = "rules") -> Plan:
    """Place a Scene on a canvas: one box per instance, stated relations and counts kept.

    Args:
        scene: the facts (from either planner).
        size: explicit ``(width, height)``; wins over the Scene's aspect and size.
        seed: layout variation; the same (scene, seed) always gives the same Plan.
        background: auto | transparent | opaque (opaque overrides a transparency request).
        quality: recorded in the Plan.
        planner: the planner's name, recorded in the Plan.
    Returns:
        A valid Plan.
    """
    from planner import templates

    template = templates.pick(scene.prompt)
    if not (scene.entities or scene.texts or scene.background or scene.aspect or scene.size
            or scene.scale or scene.style.text or scene.style.preset
            or template in templates.SELF_DRAWING):
        raise PlanError(_nothing_to_draw(scene.prompt), param="prompt")
    check_element_count(sum(e.count for e in scene.entities) + len(scene.texts))
    for t in scene.texts:
        if len(t.content) > MAX_TEXT_CHARS:
            raise PlanError(f"a quoted text is {len(t.content)} characters; the maximum is "
                            f"{MAX_TEXT_CHARS} (MAX_TEXT_CHARS) per text: split it or shorten "
                            "it", param="prompt")
    scene = templates.prepare(scene, template)
    if template == "product" and scene.background is None:   # a shop's main image: white
        scene = scene.model_copy(update={"background": Background(kind="color",
                                                                   color="#ffffff")})
    canvas = canvas_size(scene, size)
    if template in templates.STRUCTURED or templates.listed(scene, template):
        bg = _resolve_background(scene, background)
        got = templates.layout(scene, template, canvas, bg, seed)
        if got is not None:
            return Plan(prompt=scene.prompt, seed=seed, quality=quality, style=scene.style,
                        canvas=Canvas(width=canvas[0], height=canvas[1], background=bg),
                        elements=tuple(got[0]), planner=planner, template=template,
                        reasoning=f"{scene.reasoning} | {got[1]}")
    groups, by_ref = _build_groups(scene)
    parent_of = _attachments(scene, by_ref)
    stacks = _stacks(scene, groups, by_ref, parent_of)
    bg = _resolve_background(scene, background)
    floor = bg.kind == "scene" and bg.scene in GROUND_BANDS
    rng, grid, order = _ordered(scene, groups, by_ref, parent_of, stacks, seed, canvas, floor)
    if stacks and order.dropped:
        # a fact needs something between stacked groups after all: no stacks then
        plain = _ordered(scene, groups, by_ref, parent_of, {}, seed, canvas, floor)
        if len(plain[2].dropped) < len(order.dropped):
            stacks, (rng, grid, order) = {}, plain
    cells = _grid(scene, grid, order, canvas, rng)
    cells.update(_split_stacks(scene, groups, stacks, cells))
    boxes = _place_all(scene, groups, parent_of, cells, canvas, rng,
                       _grounded(scene, grid, order, bg))
    reasoning = scene.reasoning
    if order.dropped:
        reasoning += " | contradictory, not kept: " + "; ".join(dict.fromkeys(order.dropped))
    elements = _elements(scene, groups, parent_of, boxes, bg, canvas)
    if template == "card":
        elements.insert(0, templates.card_frame(canvas, bg))
    return Plan(prompt=scene.prompt, seed=seed, quality=quality, style=scene.style,
                canvas=Canvas(width=canvas[0], height=canvas[1], background=bg),
                elements=tuple(elements), planner=planner, template=template,
                reasoning=reasoning)
