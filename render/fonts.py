"""Fonts: which installed font draws a script, found through fontconfig, and glyph coverage.

fontconfig (``fc-match``/``fc-list``) is asked once per question and the answer cached; the
font's character map (fontTools) says whether every character of a string has a glyph, so a
missing font is a clear error naming the Debian package to install, never tofu boxes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from render.base import RenderError


@dataclass(frozen=True)
class FontSpec:
    """A font face on disk: ``path`` plus the face ``index`` inside a .ttc collection."""

    path: str
    index: int = 0


@dataclass(frozen=True)
class ScriptFont:
    """How to find a script's font: fontconfig family and language, and what to install."""

    family: str
    lang: str
    package: str
    cjk: bool = False        # break lines between characters, not at spaces
    rtl: bool = False


SCRIPT_FONTS: dict[str, ScriptFont] = {
    "Latn": ScriptFont("Noto Sans", "en", "fonts-noto-core"),
    "Cyrl": ScriptFont("Noto Sans", "ru", "fonts-noto-core"),
    "Grek": ScriptFont("Noto Sans", "el", "fonts-noto-core"),
    "Zyyy": ScriptFont("Noto Sans", "en", "fonts-noto-core"),
    "Hans": ScriptFont("Noto Sans CJK SC", "zh-cn", "fonts-noto-cjk", cjk=True),
    "Hant": ScriptFont("Noto Sans CJK TC", "zh-tw", "fonts-noto-cjk", cjk=True),
    "Jpan": ScriptFont("Noto Sans CJK JP", "ja", "fonts-noto-cjk", cjk=True),
    "Kore": ScriptFont("Noto Sans CJK KR", "ko", "fonts-noto-cjk"),
    "Arab": ScriptFont("Noto Sans Arabic", "ar", "fonts-noto-core", rtl=True),
    "Hebr": ScriptFont("Noto Sans Hebrew", "he", "fonts-noto-core", rtl=True),
    "Thai": ScriptFont("Noto Sans Thai", "th", "fonts-noto-core", cjk=True),
    "Deva": ScriptFont("Noto Sans Devanagari", "hi", "fonts-noto-core"),
}

# Characters that need no glyph of their own (joiners, marks of direction, selectors).
_IGNORABLE = {"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufe0e", "\ufe0f",
              "\u2060", "\ufeff", "\u061c"}


_NAME_SCRIPTS = (("HIRAGANA", "Jpan"), ("KATAKANA", "Jpan"), ("HANGUL", "Kore"),
                 ("CJK", "Hans"), ("ARABIC", "Arab"), ("HEBREW", "Hebr"),
                 ("CYRILLIC", "Cyrl"), ("GREEK", "Grek"), ("THAI", "Thai"),
                 ("DEVANAGARI", "Deva"))


def detect_script(text: str) -> str:
    """The script of ``text`` from its characters' Unicode names: kana anywhere → Jpan,
    else the first non-Latin script seen, else Latn."""
    seen = []
    for ch in text:
        name = unicodedata.name(ch, "")
        for prefix, code in _NAME_SCRIPTS:
            if name.startswith(prefix) or (prefix == "CJK" and "IDEOGRAPH" in name):
                seen.append(code)
                break
    if "Jpan" in seen:
        return "Jpan"
    return seen[0] if seen else "Latn"


def script_info(script: str) -> ScriptFont:
    """The ScriptFont for a Plan script code; unknown codes fall back to Latin's."""
    return SCRIPT_FONTS.get(script, SCRIPT_FONTS["Latn"])


@lru_cache(maxsize=256)
def _fc(args: tuple[str, ...]) -> str:
    exe = shutil.which(args[0])
    if exe is None:
        raise RenderError(
            f"{args[0]} (fontconfig) is not installed: apt-get install fontconfig")
    out = subprocess.run([exe, *args[1:]], capture_output=True, text=True, timeout=30)
    return out.stdout


def _parse_specs(text: str) -> list[tuple[FontSpec, str]]:
    specs = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0]:
            idx = int(parts[1]) if parts[1].isdigit() else 0
            specs.append((FontSpec(parts[0], idx), parts[2]))
    return specs


def fc_match(pattern: str) -> tuple[FontSpec, str] | None:
    """fontconfig's best match for ``pattern``: (face, family) or None."""
    specs = _parse_specs(_fc(("fc-match", "-f", "%{file}\t%{index}\t%{family[0]}\n",
                              pattern)))
    return specs[0] if specs else None


def fc_list(pattern: str) -> list[tuple[FontSpec, str]]:
    """Every installed face matching ``pattern`` (e.g. ``:lang=ko``), sorted for determinism."""
    return sorted(_parse_specs(_fc(("fc-list", "-f", "%{file}\t%{index}\t%{family[0]}\n",
                                    pattern))), key=lambda s: (s[0].path, s[0].index))


@lru_cache(maxsize=64)
def cmap(spec: FontSpec) -> frozenset[int]:
    """Code points the face has glyphs for."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(spec.path, fontNumber=spec.index, lazy=True)
        return frozenset(font.getBestCmap() or {})
    except Exception as e:  # a broken or non-font file given with --font
        raise RenderError(f"cannot read font {spec.path}: {e}") from None


def missing_chars(text: str, spec: FontSpec) -> list[str]:
    """Characters of ``text`` the face cannot draw (whitespace and joiners need no glyph)."""
    have = cmap(spec)
    out = []
    for ch in dict.fromkeys(text):
        if ch.isspace() or ch in _IGNORABLE or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        if ord(ch) not in have:
            out.append(ch)
    return out


def _family_ok(found: str, wanted: str) -> bool:
    return found.lower().startswith(wanted.lower())


@lru_cache(maxsize=64)
def _primary(script: str, weight: str) -> tuple[FontSpec, ...]:
    """fontconfig's match for the script's family at the wanted weight (one fc-match)."""
    info = script_info(script)
    style = "Bold" if weight == "bold" else "Regular"
    m = fc_match(f"{info.family}:style={style}:lang={info.lang}")
    return (m[0],) if m and _family_ok(m[1], info.family) else ()


@lru_cache(maxsize=64)
def _fallbacks(script: str, weight: str) -> tuple[FontSpec, ...]:
    """Every face fontconfig lists for the script's language: the wanted family first, then
    sans before mono, the wanted weight first; a stable order, not fc-list's."""
    info = script_info(script)

    def rank(item: tuple[FontSpec, str]) -> tuple:
        spec, fam = item
        return (not _family_ok(fam, info.family), "mono" in fam.lower(),
                ("bold" in spec.path.lower()) != (weight == "bold"), spec.path, spec.index)

    return tuple(spec for spec, _fam in sorted(fc_list(f":lang={info.lang}"), key=rank))


def resolve_script(text: str, script: str, weight: str = "bold") -> str:
    """The script whose fonts should draw ``text``: the Plan's tag when its font covers the
    text (寿司 tagged Jpan stays Japanese), else the script the characters show (a planner
    may tag "老王面馆" as Latn)."""
    detected = detect_script(text)
    if detected in (script, "Latn"):
        return script
    primary = _primary(script, weight)
    if primary and not missing_chars(text, primary[0]):
        return script
    return detected


def _candidates(script: str, weight: str):
    """Faces to try, best first; the slow fc-list runs only when the first match fails."""
    yield from _primary(script, weight)
    yield from _fallbacks(script, weight)


def font_for(text: str, script: str = "Latn", weight: str = "bold",
             override: str | None = None) -> FontSpec:
    """The face that draws all of ``text``.

    Args:
        text: the exact string to draw.
        script: the Plan's script code (Latn, Hans, Hant, Jpan, Kore, Arab, ...).
        weight: "bold" or "regular".
        override: a font file (``--font``) used instead of fontconfig's choice, or a
            family name (used when installed and covering the text, else ignored).
    Returns:
        A FontSpec covering every character.
    Raises:
        RenderError: naming the missing characters and the package to install.
    """
    if override and not os.path.isfile(override):
        # A family name (a Plan's "font": "Noto Serif"): use it when installed and covering.
        found = fc_match(f"{override}:style={'Bold' if weight == 'bold' else 'Regular'}")
        if found and _family_ok(found[1], override) and not missing_chars(text, found[0]):
            return found[0]
        override = None
    if override:
        spec = FontSpec(override, 0)
        missing = missing_chars(text, spec)
        if missing:
            raise RenderError(
                f"font {override} has no glyph for {''.join(missing[:8])!r} in {text!r}; "
                f"choose a font that covers script {script}")
        return spec
    code = resolve_script(text, script, weight)
    first: FontSpec | None = None
    for spec in _candidates(code, weight):
        first = first or spec
        if not missing_chars(text, spec):
            return spec
    missing = missing_chars(text, first) if first else list(text)
    emoji = [ch for ch in missing if _is_emoji(ch)]
    if emoji:
        raise RenderError(
            f"text {text!r} contains emoji ({''.join(emoji[:8])}): the text engine draws "
            "letters only; ask for the emoji as an object (e.g. 'with a pizza') instead")
    known = detect_script("".join(missing)) != "Latn" or all(ch.isascii() for ch in missing)
    # Scripts outside the table (Ethiopic, Tibetan, ...) live in Noto's extra package.
    package = script_info(detect_script("".join(missing))).package if known \
        else "fonts-noto-core fonts-noto-extra"
    raise RenderError(
        f"no installed font draws {''.join(missing[:8])!r} (script {script}) in {text!r}: "
        f"install one (apt-get install {package}) or pass --font FILE")


def _is_emoji(ch: str) -> bool:
    try:
        import emoji

        return emoji.is_emoji(ch) or emoji.is_emoji(ch + "\ufe0f")
    except ImportError:  # emoji is a dependency; the code-point range is the fallback
        return ord(ch) >= 0x1F000


@lru_cache(maxsize=512)
def load_font(spec: FontSpec, size: int):
    """A Pillow font with raqm shaping (HarfBuzz + FriBiDi), cached by face and size."""
    from PIL import ImageFont, features

    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(spec.path, size=max(1, int(size)), index=spec.index,
                                  layout_engine=engine)
    except OSError as e:
        raise RenderError(f"cannot load font {spec.path}: {e}") from None
