"""Object sprites: an emoji glyph found from the object's label, recoloured to the Plan's
colour, or a labelled shape when no glyph fits (an object is never dropped).

Noto Color Emoji is a bitmap (CBDT) font: Pillow draws it only at size 109 with
``embedded_color=True``; each glyph is drawn once on a tile, cropped to its ink and cached.
The look of a sprite depends only on (label, colour), so the same subject looks the same in
every image of a set and every element that carries its ``subject_id``.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

from render.color import RGB, basic_name, hls, parse_color, readable_on, shade

if TYPE_CHECKING:
    from PIL import Image

EMOJI_SIZE = 109  # the one size Noto Color Emoji's CBDT strikes are drawn at

# Labels whose emoji name differs from the everyday word (or whose plain name picks a
# worse glyph). Keys are lemmatised English words or phrases.
SYNONYMS: dict[str, str] = {
    "mug": "☕", "cup": "☕", "coffee": "☕", "coffee cup": "☕", "coffee mug": "☕",
    "tea": "🍵", "teacup": "🍵", "gift": "🎁", "gift box": "🎁", "present": "🎁",
    "box": "📦", "parcel": "📦", "pagoda": "🏯", "temple": "🛕", "shrine": "⛩️",
    "castle": "🏰", "ice": "🧊", "ice block": "🧊", "ice cube": "🧊", "road": "🛣️",
    "street": "🛣️", "highway": "🛣️", "envelope": "✉️", "letter": "✉️", "mail": "✉️",
    "email": "📧", "tree": "🌳", "flower": "🌸", "blossom": "🌸", "bird": "🐦",
    "mountain": "⛰️", "hill": "⛰️", "headphone": "🎧", "headphones": "🎧",
    "headset": "🎧", "sunglass": "🕶️", "sunglasses": "🕶️", "glasses": "👓",
    "umbrella": "☂️", "beach umbrella": "⛱️", "parasol": "⛱️", "bike": "🚲",
    "heart": "❤️", "star": "⭐", "moon": "🌙", "sun": "☀️", "pumpkin": "🎃",
    "vase": "🏺", "bowl": "🥣", "noodle": "🍜", "noodles": "🍜", "ramen": "🍜",
    "bowl of noodles": "🍜", "sushi": "🍣", "cake": "🍰", "birthday cake": "🎂",
    "car": "🚗", "sneaker": "👟", "shoe": "👟", "boot": "🥾", "phone": "📱",
    "smartphone": "📱", "computer": "💻", "laptop": "💻", "lamp": "💡", "bulb": "💡",
    "light bulb": "💡", "plane": "✈️", "airplane": "✈️", "boat": "⛵", "ship": "🚢",
    "house": "🏠", "home": "🏠", "building": "🏢", "cloud": "☁️", "rain": "🌧️",
    "snowflake": "❄️", "fire": "🔥", "flame": "🔥", "leaf": "🍃", "plant": "🪴",
    "cactus": "🌵", "clock": "🕰️", "watch": "⌚", "alarm": "⏰", "bag": "👜",
    "backpack": "🎒", "ball": "⚽", "balloon": "🎈", "bottle": "🍾", "wine": "🍷",
    "glass": "🥛", "milk": "🥛", "juice": "🧃", "bread": "🍞", "cookie": "🍪",
    "chair": "🪑", "sofa": "🛋️", "couch": "🛋️", "bed": "🛏️", "door": "🚪",
    "window": "🪟", "pen": "🖊️", "pencil": "✏️", "book": "📖", "notebook": "📓",
    "calendar": "📅", "chart": "📊", "graph": "📊", "trophy": "🏆", "medal": "🏅",
    "crown": "👑", "hat": "🎩", "cap": "🧢", "shirt": "👕", "t-shirt": "👕",
    "dress": "👗", "sock": "🧦", "ring": "💍", "diamond": "💎", "gem": "💎",
    "key": "🔑", "lock": "🔒", "money": "💵", "coin": "🪙", "music": "🎵",
    "note": "🎵", "guitar": "🎸", "piano": "🎹", "drum": "🥁", "microphone": "🎤",
    "camera": "📷", "tv": "📺", "television": "📺", "robot": "🤖", "person": "🧑",
    "man": "👨", "woman": "👩", "child": "🧒", "kid": "🧒", "baby": "👶",
    "fish": "🐟", "shark": "🦈", "whale": "🐋", "dolphin": "🐬", "frog": "🐸",
    "mouse": "🐁", "rabbit": "🐇", "bunny": "🐇", "horse": "🐎", "chicken": "🐔",
    "hen": "🐔", "duck": "🦆", "owl": "🦉", "butterfly": "🦋", "bee": "🐝",
    "bug": "🐛", "snake": "🐍", "turtle": "🐢", "crab": "🦀", "lion": "🦁",
    "tiger": "🐅", "bear": "🐻", "panda": "🐼", "fox": "🦊", "monkey": "🐒",
    "elephant": "🐘", "giraffe": "🦒", "deer": "🦌", "sheep": "🐑", "goat": "🐐",
    "rose": "🌹", "tulip": "🌷", "sunflower": "🌻", "daisy": "🌼", "mushroom": "🍄",
    "pizza": "🍕", "burger": "🍔", "hamburger": "🍔", "fries": "🍟", "egg": "🥚",
    "cheese": "🧀", "lemon": "🍋", "orange": "🍊", "cherry": "🍒", "grape": "🍇",
    "berry": "🍓", "strawberry": "🍓", "apple": "🍎", "pear": "🍐", "carrot": "🥕",
    "croissant": "🥐", "donut": "🍩", "doughnut": "🍩", "ice cream": "🍨",
    "candy": "🍬", "lollipop": "🍭", "candle": "🕯️", "rocket": "🚀", "planet": "🪐",
    "globe": "🌍", "earth": "🌍", "map": "🗺️", "tent": "⛺", "flag": "🏳️",
    "bell": "🔔", "magnifier": "🔍", "magnifying glass": "🔍", "wrench": "🔧",
    "hammer": "🔨", "scissors": "✂️", "paint": "🎨", "palette": "🎨", "brush": "🖌️",
    "rainbow": "🌈", "lightning": "⚡", "bolt": "⚡", "snowman": "⛄", "wave": "🌊",
    "sea": "🌊", "volcano": "🌋", "island": "🏝️", "bridge": "🌉", "train": "🚆",
    "bus": "🚌", "truck": "🚚", "taxi": "🚕", "motorcycle": "🏍️", "bicycle": "🚲",
    "toggle": "🔘", "switch": "🔘", "button": "🔘", "check": "✅", "checkmark": "✅",
    "arrow": "➡️", "cross": "❌", "pin": "📍", "seedling": "🌱", "sprout": "🌱",
    "seed": "🌰", "nut": "🌰", "plate": "🍽️", "spoon": "🥄", "fork": "🍴",
    "knife": "🔪", "teapot": "🫖", "kettle": "🫖", "basket": "🧺", "bucket": "🪣",
    "palm": "🌴", "palm tree": "🌴", "pine": "🌲", "pine tree": "🌲", "fir": "🌲",
    "cloud computing": "☁️", "shopping cart": "🛒", "cart": "🛒", "ticket": "🎟️",
    "cabin": "🛖", "hut": "🛖", "cottage": "🏡", "monitor": "🖥️",
    "tablet": "📱", "suitcase": "🧳", "luggage": "🧳", "wallet": "👛", "purse": "👛",
    "grass": "🌿", "bush": "🌳", "stone": "🪨", "rock": "🪨", "river": "🏞️", "lake": "🏞️",
    "beach": "🏖️", "scooter": "🛴", "police": "🚓", "firetruck": "🚒",
    "fire truck": "🚒", "dinosaur": "🦖", "squirrel": "🐿️", "ladybug": "🐞",
    "ladybird": "🐞", "pepper": "🌶️", "soup": "🍲", "stew": "🍲", "salad": "🥗",
    "chocolate": "🍫", "pot": "🍲", "pan": "🍳", "frying pan": "🍳", "saw": "🪚",
    "needle": "🪡", "pants": "👖", "trousers": "👖", "jeans": "👖", "glove": "🧤",
    "jacket": "🧥", "coat": "🧥", "tie": "👔", "necktie": "👔", "campfire": "🔥",
    "skyscraper": "🏢", "tower": "🗼", "statue": "🗽", "ferris wheel": "🎡",
    "carousel": "🎠", "bandage": "🩹", "frame": "🖼️", "painting": "🖼️",
    "picture": "🖼️", "photo": "🖼️", "witch": "🧙", "wizard": "🧙", "mage": "🧙",
    "telescope": "🔭", "lantern": "🏮", "camel": "🐪", "teddy bear": "🧸", "toy": "🧸",
    "hippo": "🦛", "hippopotamus": "🦛", "rhino": "🦏", "rhinoceros": "🦏",
    "towel": "🧻",
}
_STOP = {"a", "an", "the", "of", "with", "and", "in", "on", "small", "big", "large", "tiny",
         "little", "single", "pair", "cute", "piece", "pieces"}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9\-]+", text.lower())


@lru_cache(maxsize=4096)
def _lemma(word: str) -> str:
    """English noun lemma ("mice" → mouse); plural-only nouns keep their form."""
    if word in SYNONYMS or word.endswith("ss"):
        return word
    try:
        from lemminflect import getLemma

        got = getLemma(word, upos="NOUN")
        return got[0] if got else word
    except ImportError:  # lemminflect is a dependency; stay usable without it
        return word[:-1] if word.endswith("s") and len(word) > 3 else word


@lru_cache(maxsize=1)
def _emoji_index() -> dict[str, str]:
    """Emoji name or alias (spaces, lowercase) → emoji; names outrank aliases, single code
    points outrank sequences, and skin-tone variants are left out."""
    import emoji

    names: dict[str, tuple[int, int, str]] = {}
    for glyph, data in emoji.EMOJI_DATA.items():
        if data.get("status") != emoji.STATUS["fully_qualified"]:
            continue
        if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in glyph):
            continue
        cps = len(glyph.replace("\ufe0f", ""))
        keyed = [(data["en"], 0)] + [(a, 1) for a in data.get("alias", ())]
        for name, rank in keyed:
            key = " ".join(_words(name.strip(":").replace("_", " ")))
            cand = (rank, cps, glyph)
            if key not in names or cand < names[key]:
                names[key] = cand
    return {k: v[2] for k, v in names.items()}


@lru_cache(maxsize=1)
def _emoji_font_path() -> str | None:
    from render.fonts import fc_match

    m = fc_match("Noto Color Emoji")
    return m[0].path if m and "emoji" in m[1].lower() else None


def _drawable(glyph: str) -> bool:
    from render.fonts import FontSpec, cmap

    path = _emoji_font_path()
    if path is None:
        return False
    have = cmap(FontSpec(path, 0))
    return all(ord(c) in have for c in glyph if c not in "\ufe0f\u200d")


def _lookup_phrase(phrase: str, index: dict[str, str]) -> str | None:
    return SYNONYMS.get(phrase) or index.get(phrase)


@lru_cache(maxsize=2048)
def find_emoji(label: str) -> str | None:
    """The emoji that best stands for an object label, or None.

    Tries the whole phrase (with and without colour words), its lemmatised form, the head
    noun (last word) and then the other words right to left, each against the synonym table
    and the emoji package's names and aliases.

    Args:
        label: the Plan's object label ("red apple", "bowl of noodles", "gift box").
    Returns:
        An emoji string that the installed emoji font can draw, or None.
    """
    index = _emoji_index()
    words = [w for w in _words(label) if w not in _STOP]
    if not words:
        return None
    plain = [w for w in words if parse_color(w) is None] or words
    lemmas = [_lemma(w) for w in plain]
    phrases = [" ".join(words), " ".join(plain), " ".join(lemmas),
               " ".join(lemmas[-2:]), lemmas[-1], plain[-1]]
    phrases += list(reversed(lemmas[:-1]))
    for phrase in phrases:
        got = _lookup_phrase(phrase, index)
        if got and _drawable(got):
            return got
    for word in reversed(lemmas):  # the head noun first: "pepper" → "hot pepper"
        got = _by_word(word)
        if got:
            return got
    return None


@lru_cache(maxsize=1)
def _word_index() -> dict[str, list[tuple[int, int, str]]]:
    """Lemmatised word of an emoji name → [(name length, head-noun rank, emoji)]."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    for name, glyph in _emoji_index().items():
        words = name.split()
        for i, w in enumerate(words):
            out.setdefault(_lemma(w), []).append((len(words), int(i != len(words) - 1), glyph))
    return out


@lru_cache(maxsize=2048)
def _by_word(word: str) -> str | None:
    """The emoji with the shortest name whose head noun is ``word``: a last resort that
    finds "hot pepper" for pepper, "Tokyo tower" for tower."""
    if len(word) < 3 or word in _STOP:
        return None
    # Only names whose head noun it is: "table" must not find "table tennis".
    for _n, rank, glyph in sorted(_word_index().get(word, ()), key=lambda t: (t[1], t[0])):
        if rank == 0 and _drawable(glyph):
            return glyph
    return None


@lru_cache(maxsize=256)
def emoji_tile(glyph: str) -> "Image.Image":
    """The glyph drawn once at the font's native size, cropped to its ink (RGBA)."""
    from PIL import Image, ImageDraw

    from render.fonts import FontSpec, load_font

    font = load_font(FontSpec(_emoji_font_path() or "", 0), EMOJI_SIZE)
    tile = Image.new("RGBA", (EMOJI_SIZE * 2, EMOJI_SIZE * 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((EMOJI_SIZE // 3, EMOJI_SIZE // 3), glyph, font=font,
                              embedded_color=True)
    # Pillow blends the colour bitmap into the tile's transparent black, which leaves the
    # colours premultiplied by alpha (dark edges); read them back as premultiplied.
    tile = Image.frombytes("RGBa", tile.size, tile.tobytes()).convert("RGBA")
    bbox = tile.getchannel("A").getbbox()
    return tile.crop(bbox) if bbox else tile


def _rgb_to_hsv(rgb):
    import numpy as np

    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    d = mx - mn
    safe = np.where(d == 0, 1.0, d)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    h = np.where(mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2,
                                                       (r - g) / safe + 4)) / 6.0
    h = np.where(d == 0, 0.0, h)
    s = np.where(mx == 0, 0.0, d / np.where(mx == 0, 1.0, mx))
    return h, s, mx


def _hsv_to_rgb(h, s, v):
    import numpy as np

    i = np.floor(h * 6) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(h.shape + (3,), dtype=np.float32)
    for k, (r, g, b) in enumerate(choices):
        m = i == k
        out[m] = np.stack([r[m], g[m], b[m]], axis=-1)
    return out


def dominant_color(tile: "Image.Image") -> tuple[RGB, float]:
    """The glyph's main colour and how much of its ink is that colour (0..1).

    Hue histogram over opaque, saturated pixels; an ink that is mostly grey/white/black,
    or a light body larger than the main hue's area, reports that achromatic colour.
    """
    import numpy as np

    arr = np.asarray(tile.convert("RGBA"), dtype=np.float32) / 255.0
    opaque = arr[..., 3] > 0.5
    rgb = arr[..., :3][opaque]
    if rgb.size == 0:
        return (128, 128, 128), 0.0
    h, s, v = _rgb_to_hsv(rgb)
    chroma = (s > 0.25) & (v > 0.35)  # very dark ink (tyres, outlines) reads as black
    if chroma.mean() < 0.2:
        return tuple(int(c * 255) for c in rgb.mean(axis=0)), 1.0 - chroma.mean()
    hist, edges = np.histogram(h[chroma], bins=36, range=(0, 1))
    k = int(hist.argmax())
    near = chroma & (np.abs(((h - (k + 0.5) / 36) + 0.5) % 1 - 0.5) < 0.06)
    # A white body with a coloured detail (☕: white cup, brown coffee) is a white thing.
    light = (s < 0.2) & (v > 0.82)
    if light.mean() > 0.3 and light.mean() > 1.2 * near.mean():
        return tuple(int(c * 255) for c in rgb[light].mean(axis=0)), float(light.mean())
    return tuple(int(c * 255) for c in rgb[near].mean(axis=0)), float(near.mean())


def _share_near(tile: "Image.Image", want: RGB) -> float:
    """Share of the glyph's opaque ink within a small RGB distance of ``want``."""
    import numpy as np

    arr = np.asarray(tile, dtype=np.float32)
    ink = arr[arr[..., 3] > 128][:, :3]
    if ink.size == 0:
        return 0.0
    return float((np.abs(ink - np.array(want, np.float32)).max(axis=1) < 40).mean())


def _needs_recolor(have: RGB, want: RGB) -> bool:
    """Recolour when a viewer would name the two colours differently (a red cap is not
    "brown"), or when the hues are far apart within one name."""
    if basic_name(have) != basic_name(want):
        return True
    hh, lh, sh = hls(have)
    hw, lw, sw = hls(want)
    if sw < 0.15 or sh < 0.15:
        return abs(lw - lh) > 0.3
    return abs(((hh - hw) + 0.5) % 1 - 0.5) > 0.08


def _recolor_fn(tile: "Image.Image", want: RGB):
    """How to move a picture's main colour to ``want``: a function on float RGB arrays
    (..., 3) in 0..1, or None when the picture already is that colour.

    Pixels near the dominant hue (or, for a grey/white picture, its light body) take the
    target hue; saturation and brightness are rescaled so the picture keeps its shading, and
    white/black/grey targets are handled by desaturating and remapping brightness. The same
    function recolours a bitmap's pixels or a vector's fill colours.
    """
    import numpy as np

    have, _share = dominant_color(tile)
    if not _needs_recolor(have, want) or _share_near(tile, want) > 0.3:
        return None  # already that colour (a white mug's cup, a green apple)
    arr = np.asarray(tile, dtype=np.float32) / 255.0
    h, s, v = _rgb_to_hsv(arr[..., :3])
    th, ts, tv = _rgb_to_hsv(np.array([[c / 255.0 for c in want]], dtype=np.float32))
    th, ts, tv = float(th[0]), float(ts[0]), float(tv[0])
    dh, _dl, _hls_s = hls(have)
    # Chromatic or grey by HSV saturation, the measure the weights below use (a pale
    # lavender has HLS saturation 0.2 but HSV saturation 0.07: it is a white body).
    ds = (max(have) - min(have)) / max(max(have), 1)

    def weight_of(h, s, v):
        if ds >= 0.15:
            dist = np.abs(((h - dh) + 0.5) % 1 - 0.5)
            return np.clip(1.0 - (dist - 0.07) / 0.05, 0, 1) * np.clip((s - 0.12) / 0.1, 0, 1)
        # grey/white picture: the light body changes, dark outlines stay
        return np.clip((v - 0.3) / 0.2, 0, 1) * np.clip((0.35 - s) / 0.1, 0, 1)

    body = (weight_of(h, s, v) > 0.5) & (arr[..., 3] > 0.5)
    mean_v = float(v[body].mean()) if body.any() else 0.7
    mean_s = float(s[body].mean()) if body.any() else 0.5

    def apply(rgb):
        h, s, v = _rgb_to_hsv(rgb)
        weight = weight_of(h, s, v)
        if ts < 0.12:  # white, black, grey: drop the hue, remap brightness around the target
            ns = s * 0.08
            nv = np.clip(tv + (v - mean_v) * (0.5 if tv > 0.85 or tv < 0.2 else 0.8), 0.03, 1)
        elif ds < 0.15:  # a white/grey body takes the colour; its shading stays in brightness
            ns = np.full_like(s, ts)
            nv = np.clip(v * (tv / max(mean_v, 0.05)), 0, 1)
        else:
            ns = np.clip(s * (ts / max(mean_s, 0.05)), 0, 1)
            nv = np.clip(v * (tv / max(mean_v, 0.05)), 0, 1)
        new = _hsv_to_rgb(np.full_like(h, th), ns, nv)
        return rgb * (1 - weight[..., None]) + new * weight[..., None]

    return apply


@lru_cache(maxsize=512)
def recolor(glyph: str, want: RGB) -> "Image.Image":
    """The glyph's tile with its main colour moved to ``want`` (see :func:`_recolor_fn`)."""
    import numpy as np
    from PIL import Image

    tile = emoji_tile(glyph)
    fn = _recolor_fn(tile, want)
    if fn is None:
        return tile
    arr = np.asarray(tile, dtype=np.float32) / 255.0
    out = np.concatenate([fn(arr[..., :3]), arr[..., 3:]], axis=-1)
    return Image.fromarray((out * 255 + 0.5).astype(np.uint8), "RGBA")


@lru_cache(maxsize=512)
def vector_color_map(prefix: str, name: str, want: RGB):
    """A colour → colour function that recolours an icon's SVG paints (fills, strokes,
    gradient stops) toward ``want``: the vector counterpart of :func:`recolor`, judged on
    a small rasterisation of the icon."""
    import numpy as np

    from render.icons import render_icon

    tile = render_icon(prefix, name, (96, 96))
    fn = _recolor_fn(tile, want) if tile is not None else None
    if fn is None:
        return lambda rgb: rgb

    def mapping(rgb):
        out = fn(np.array([[c / 255.0 for c in rgb]], dtype=np.float32))[0]
        return tuple(int(min(255, max(0, c * 255 + 0.5))) for c in out)

    return mapping


def resize_rgba(image: "Image.Image", size: tuple[int, int]) -> "Image.Image":
    """Resize with premultiplied alpha, so transparent (black) pixels do not bleed a dark
    fringe into the edges."""
    from PIL import Image

    return image.convert("RGBa").resize(size, Image.LANCZOS).convert("RGBA")


# Things that hang in the air: no contact shadow on the ground under them.
AIRBORNE = {"sun", "moon", "star", "cloud", "bird", "planet", "rocket", "plane", "airplane",
            "balloon", "butterfly", "kite", "rainbow", "lightning", "snowflake", "bee",
            "helicopter", "ufo", "comet", "sparkle", "heart", "drone", "owl", "bat"}


def is_airborne(label: str) -> bool:
    """True when the label's head noun is something that floats or flies."""
    words = [_lemma(w) for w in _words(label)]
    return bool(words) and words[-1] in AIRBORNE


def fit_inside(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest (w, h) with ``size``'s aspect inside ``box``."""
    scale = min(box[0] / size[0], box[1] / size[1])
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def palette_color(key: str) -> RGB:
    """A pleasant, stable colour for an object without one (same key → same colour)."""
    swatches = [(231, 111, 81), (42, 157, 143), (233, 196, 106), (38, 70, 83),
                (244, 162, 97), (106, 76, 147), (25, 130, 196), (138, 201, 38)]
    return swatches[zlib.crc32(key.encode("utf-8")) % len(swatches)]


def shape_sprite(label: str, color: RGB, size: tuple[int, int], key: str,
                 font: str | None = None, supersample: int = 2) -> "Image.Image":
    """A labelled rounded shape for an object no glyph fits: never drop an object.

    Args:
        label: the object's name, written on the shape.
        color: fill colour. size: (w, h) pixels. key: picks the shape (stable per subject).
        font: an optional font file for the label.
        supersample: drawn this many times larger, then reduced (smooth edges).
    Returns:
        An RGBA image of ``size``.
    """
    from PIL import Image, ImageDraw

    from render.base import RenderError
    from render.text import fit_text, shaping_for

    w, h = size
    ss = max(1, supersample)
    img = Image.new("RGBA", (w * ss, h * ss), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    edge = shade(color, -0.25)
    # Outline width: 3% of the short side, but never more than a quarter of it (tiny boxes).
    bw = min(max(2, int(min(w, h) * 0.03)) * ss, (min(w, h) * ss) // 4)
    if zlib.crc32(key.encode("utf-8")) % 3 == 0 and 0.6 < w / h < 1.6:
        d.ellipse((bw, bw, w * ss - bw, h * ss - bw), fill=color + (255,), outline=edge + (255,),
                  width=bw)
    else:
        d.rounded_rectangle((bw, bw, w * ss - bw, h * ss - bw), radius=int(min(w, h) * 0.18) * ss,
                            fill=color + (255,), outline=edge + (255,), width=bw)
    if ss > 1:
        img = resize_rgba(img, (w, h))
    try:
        sh = shaping_for(label, "Latn", "bold", font=font)
        layout = fit_text(label, sh, (int(w * 0.72), int(h * 0.6)))
    except RenderError:
        layout = None
    if layout is not None:
        from render.fonts import load_font

        f = load_font(sh.spec, layout.size)
        ink = readable_on(color)
        draw = ImageDraw.Draw(img)
        ox, oy = (w - layout.width) / 2, (h - layout.height) / 2
        for line, (lx, ly) in zip(layout.lines, layout.origins):
            draw.text((ox + lx, oy + ly), line, font=f, fill=ink + (255,), anchor="ls",
                      direction=sh.direction, language=sh.language)
    return img


def object_pick(label: str, prefer: str | None = None, line: bool = False):
    """What an object label is drawn as (render.vocab.Pick); a line look swaps in the line
    sets' icon for the same thing when there is one."""
    from render.vocab import Pick, line_icon, pick

    p = pick(label, prefer)
    if line and p.source != "shape" and p.icon_set not in ("mdi", "tabler"):
        got = line_icon(p, label)
        if got:
            return Pick("icon", got[0], got[1], p.glyph, p.matched)
    return p


@lru_cache(maxsize=256)
def object_sprite(label: str, color: str | None, size: tuple[int, int], key: str,
                  font: str | None = None, supersample: int = 2,
                  sharpen: bool = True, prefer: str | None = None,
                  line: bool = False, ink: RGB | None = None) -> "Image.Image":
    """The picture of one object, fitted inside ``size`` keeping its aspect.

    A vector icon is rasterised at its final size (crisp at 4K); without the icon sets the
    colour-emoji font's bitmap is scaled; with no picture at all, a labelled shape.

    Args:
        label: the object's label. color: the Plan's colour (None keeps the picture's).
        size: the box in pixels. key: the subject id (or label) that fixes the look.
        font: a font file for a shape's label.
        supersample, sharpen: quality knobs (see render.draft.DraftQuality).
        prefer: the colour icon set to try first (a style's look).
        line: draw a one-colour line icon where the line sets have one, in ``ink``.
    Returns:
        An RGBA image no larger than ``size``.
    """
    from PIL import ImageFilter

    p = object_pick(label, prefer, line)
    want = parse_color(color)
    if p.source == "icon":
        from render.icons import SETS, render_icon

        if SETS[p.icon_set].kind == "mono":
            fill = want or (palette_color(key) if not line else ink or (38, 38, 46))
            img = render_icon(p.icon_set, p.name, tuple(size), fill=fill)
        else:
            img = render_icon(p.icon_set, p.name, tuple(size), recolor=want)
        if img is not None:
            return img
    if p.source == "shape" or p.glyph is None:
        w, h = size
        if w > 2.2 * h or h > 2.2 * w:  # keep shapes readable in extreme boxes
            w, h = (min(w, int(h * 2.2)), h) if w > h else (w, min(h, int(w * 2.2)))
        return shape_sprite(label, want or palette_color(key), (w, h), key, font, supersample)
    glyph = p.glyph
    tile = recolor(glyph, want) if want else emoji_tile(glyph)
    target = fit_inside(tile.size, size)
    out = resize_rgba(tile, target)
    if sharpen and target[0] > tile.width * 2:  # big upscales of a 136 px bitmap: restore some edge
        out = out.filter(ImageFilter.UnsharpMask(radius=max(1, target[0] // 160), percent=60,
                                                 threshold=2))
    return out
