"""The rules planner: prompt words -> Scene facts -> (layout solver) -> Plan. No weights.

Understanding is deterministic and table-driven (planner.lexicon): quoted text is copied
verbatim, counts, colours, nouns, relations, positions, aspect, background and style are read
from the words around it. English prompts are chunked into noun phrases (lemminflect for
lemmas and parts of speech); Chinese and Japanese prompts are scanned with a longest-match
dictionary of numerals, counters, colours, nouns and relation words; Korean prompts are read
word by word (noun + particle). ``planner.layout.solve`` then places the boxes.

Decisions worth knowing:
- "a pair of X" is one object when X is plural-only (headphones, sunglasses, scissors) and
  two objects otherwise (a pair of shoes = two shoes).
- Words that name the image itself (poster, banner, thumbnail, sign, card, header, slide,
  mockup, cover, menu ...) are the canvas, not objects; the nouns before them ("coffee shop"
  in "coffee shop poster") name its topic. Picture words (photo, shot, icon, sticker) keep
  their subject: "a coffee mug product shot" is a coffee mug.
- Only quoted strings become text. A name is text when it names a logo, brand, shop, café,
  app or product ('a coffee shop called "Bean There"'); a pet's or a person's stays a name
  ('a cat named "Tom"').
- Words before a quote describe that quote ('a big red title "SALE"'): colour, size
  (big/huge, small/tiny), bold; 'in a (red) circle' or 'on a badge' after it frames it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from planner import lexicon as lx
from planner.scene import Entity, Scene, SceneRelation, TextItem
from planner.schema import Background, Plan, Style, check_prompt

# --- quoted text -------------------------------------------------------------------------------
_QUOTE_PAIRS = (("“", "”"), ("„", "“"), ("«", "»"), ("‹", "›"), ("「", "」"), ("『", "』"),
                ("《", "》"), ("〈", "〉"), ("＂", "＂"), ("‘", "’"), ('"', '"'))
_OPEN = {o: c for o, c in _QUOTE_PAIRS}


def _is_boundary(ch: str) -> bool:
    return ch == "" or ch.isspace() or unicodedata.category(ch)[0] in "PZS"


def _single_quote_spans(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """ASCII '...' pairs that are quotes, not apostrophes: an opening ' follows a boundary and
    precedes a non-space; a closing ' follows a non-space and precedes a boundary."""
    spans = []
    i = 0
    busy = lambda k: any(a <= k < b for a, b in taken)  # noqa: E731
    while i < len(text):
        if text[i] == "'" and not busy(i) and _is_boundary(text[i - 1] if i else "") \
                and i + 1 < len(text) and not text[i + 1].isspace():
            j = i + 1
            while j < len(text):
                if text[j] == "'" and not text[j - 1].isspace() and \
                        _is_boundary(text[j + 1] if j + 1 < len(text) else ""):
                    break
                j += 1
            if j < len(text) and j > i + 1:
                spans.append((i, j + 1))
                i = j + 1
                continue
        i += 1
    return spans


def find_quotes(prompt: str) -> list[tuple[int, int, str]]:
    """Quoted strings in every common quote style, in order of appearance.

    Returns:
        ``(start, end, content)`` with ``prompt[start:end]`` the quote including its marks
        and ``content`` copied exactly (never trimmed or re-cased).
    """
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(prompt):
        close = _OPEN.get(prompt[i])
        if close is not None:
            j = prompt.find(close, i + 1)
            if j > i + 1:
                spans.append((i, j + 1))
                i = j + 1
                continue
        i += 1
    spans += _single_quote_spans(prompt, spans)
    spans.sort()
    return [(a, b, prompt[a + 1:b - 1]) for a, b in spans if prompt[a + 1:b - 1].strip()]


# --- scripts (ISO 15924) ----------------------------------------------------------------------
_RANGES = (
    ("Hang", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("Kana", ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))),
    ("Hani", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF), (0x20000, 0x2FFFF))),
    ("Arab", ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF),
              (0xFE70, 0xFEFF))),
    ("Hebr", ((0x0590, 0x05FF),)), ("Cyrl", ((0x0400, 0x04FF),)), ("Grek", ((0x0370, 0x03FF),)),
    ("Thai", ((0x0E00, 0x0E7F),)), ("Deva", ((0x0900, 0x097F),)),
)
# Common characters whose simplified and traditional forms differ (simplified, traditional).
_ST_PAIRS = (
    "简簡 体體 门門 们們 车車 马馬 鱼魚 鸟鳥 龙龍 书書 学學 国國 会會 来來 时時 个個 说說 这這 为為 "
    "对對 开開 关關 长長 东東 风風 电電 话話 语語 见見 贝貝 页頁 飞飛 点點 无無 爱愛 乐樂 欢歡 临臨 "
    "馆館 买買 卖賣 发發 后後 华華 实實 礼禮 节節 园園 场場 饭飯 汤湯 鸡雞 猪豬 热熱 烟煙 灯燈 广廣 "
    "厅廳 岁歲 钱錢 银銀 铁鐵 钟鐘 庆慶 乡鄉 亲親 认認 让讓 谢謝 请請 讲講 读讀 写寫 听聽 闻聞 问問 "
    "间間 阳陽 阴陰 云雲 带帶 师師 网網 红紅 绿綠 蓝藍 级級 线線 练練 经經 给給 结結 纸紙 丝絲 梦夢 "
    "兴興 气氣 汉漢 过過 还還 进進 远遠 运運 边邊 达達 处處 备備 头頭 员員 圆圓 图圖 团團 报報 声聲 "
    "变變 号號 叶葉 医醫 药藥 营營 业業 从從 众眾 优優 传傳 价價 宝寶 宁寧 岛島 应應 张張 归歸 当當 "
    "录錄 忆憶 怀懷 总總 战戰 护護 换換 数數 旧舊 显顯 术術 机機 杂雜 条條 标標 样樣 树樹 桥橋 楼樓 "
    "毕畢 汇匯 没沒 洁潔 湾灣 满滿 灵靈 烧燒 猫貓 环環 现現 画畫 盘盤 码碼 确確 离離 种種 笔筆 笼籠 "
    "类類 紧緊 纪紀 约約 细細 终終 组組 续續 罗羅 联聯 胜勝 脑腦 艺藝 苏蘇 获獲 虽雖 补補 装裝 视視 "
    "观觀 规規 觉覺 计計 记記 设設 证證 词詞 试試 诗詩 课課 贵貴 费費 资資 赛賽 转轉 轮輪 轻輕 选選 "
    "邮郵 钥鑰 锁鎖 镜鏡 闪閃 队隊 险險 难難 雾霧 静靜 顶頂 顺順 预預 领領 题題 颜顏 饮飲 饺餃 饼餅 "
    "验驗 鲜鮮 鸭鴨 麦麥 黄黃 齐齊 龟龜 寿壽 馒饅 烧燒 咖咖 欧歐 庙廟 凤鳳 蛋蛋 虾蝦 面麵 壶壺"
).split()
_SIMPLIFIED = frozenset(p[0] for p in _ST_PAIRS if p[0] != p[1] and p[0] not in "面")
_TRADITIONAL = frozenset(p[1] for p in _ST_PAIRS if p[0] != p[1])


def _script_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        cp = ord(ch)
        name = None
        for script, ranges in _RANGES:
            if any(a <= cp <= b for a, b in ranges):
                name = script
                break
        if name is None and ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
            name = "Latn"
        if name:
            counts[name] = counts.get(name, 0) + 1
    return counts


def detect_script(text: str, hint: str | None = None) -> str:
    """ISO 15924 code of a string: Latn, Hans, Hant, Jpan (kana present), Kore, Arab, ...

    Args:
        text: the string.
        hint: the prompt's language hint for Han-only text ("Jpan", "Hant" or None).
    Returns:
        The code; ``Zyyy`` for text with no letters (digits, symbols).
    """
    c = _script_counts(text)
    if not c:
        return "Zyyy"
    if c.get("Hang", 0) and c.get("Hang", 0) >= c.get("Hani", 0):
        return "Kore"
    if c.get("Kana"):
        return "Jpan"
    if c.get("Hani"):
        trad = sum(ch in _TRADITIONAL for ch in text)
        simp = sum(ch in _SIMPLIFIED for ch in text)
        if hint == "Jpan":
            return "Jpan"    # Japanese kanji share many simplified forms (寿, 来, 国)
        if trad > simp or hint == "Hant" and trad >= simp:
            return "Hant"
        return "Hans"
    best = max(c, key=lambda k: c[k])
    return {"Hang": "Kore", "Kana": "Jpan", "Hani": "Hans"}.get(best, best)


# --- colours ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _css_names() -> frozenset[str]:
    import webcolors

    return frozenset(webcolors.names("css3"))


def color_word(words: list[str], i: int) -> tuple[str | None, int]:
    """The colour named at ``words[i]`` ("blue", "dark blue", "navy blue", "grey").

    Returns:
        ``(css name or hex, number of words used)`` or ``(None, 0)``.
    """
    w = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    css = _css_names()
    if w in lx.COLOR_PREFIXES and nxt:
        base = lx.COLOR_ALIASES.get(nxt, nxt)
        if w + base in css:
            return w + base, 2
        if w in ("navy", "sky", "royal", "midnight") and base == "blue":
            return {"navy": "navy", "sky": "skyblue", "royal": "royalblue",
                    "midnight": "midnightblue"}[w], 2
        if base in css and w in ("pale", "deep", "bright", "neon", "pastel", "baby"):
            return base, 2
    if w in lx.COLOR_ALIASES:
        return lx.COLOR_ALIASES[w], 1 if lx.COLOR_ALIASES[w] else 0
    if w in css:
        return w, 1
    if "-" in w:   # "blue-green", "sky-blue"
        head = w.split("-")[-1]
        if head in css:
            return head, 1
    return None, 0


# --- English words ----------------------------------------------------------------------------
_LEMMA_OVERRIDES = {"leaves": "leaf", "people": "person", "fries": "fries", "dice": "dice",
                    "series": "series", "species": "species", "geese": "goose", "mice": "mouse",
                    "octopi": "octopus", "cacti": "cactus", "fungi": "fungus", "men": "man",
                    "women": "woman", "children": "child", "teeth": "tooth", "feet": "foot",
                    "knives": "knife", "wolves": "wolf", "shelves": "shelf", "loaves": "loaf",
                    "calves": "calf", "halves": "half", "scarves": "scarf", "noodles": "noodles",
                    "sweets": "sweet", "clothes": "clothes", "glasses": "glasses"}
_STOP = {
    "with", "and", "or", "but", "of", "to", "from", "for", "at", "in", "on", "by", "as", "is",
    "are", "was", "were", "be", "been", "has", "have", "had", "that", "which", "who", "whose",
    "while", "where", "when", "above", "below", "under", "over", "beside", "near", "next",
    "between", "around", "behind", "inside", "into", "onto", "upon", "atop", "beneath",
    "underneath", "alongside", "against", "across", "along", "through", "toward", "towards",
    "among", "within", "without", "than", "then", "so", "very", "too", "also", "just", "only",
    "it", "its", "they", "them", "their", "this", "these", "those", "there", "here", "each",
    "both", "all", "no", "not", "please", "make", "create", "draw", "generate", "show",
    "design", "render", "paint", "give", "want", "need", "could", "would", "should",
    "will", "me", "us", "i", "we", "you", "your", "my", "our", "his", "her", "like", "using",
    "featuring", "features", "feature", "containing", "contains", "including", "includes",
    "where", "via", "per", "about", "up", "down", "out", "off", "away", "together", "says",
    "say", "saying", "reads", "reading", "titled", "entitled", "written", "labeled",
    "labelled", "showing", "shows", "displaying", "named", "called", "captioned", "sits",
    "stands", "lies", "hangs", "floats", "flies", "rests", "sleeps", "holds", "wears",
    "facing", "looking", "aspectmark", "sizemark", "if", "de", "la", "outdoors", "indoors",
    "outside", "underwater", "everywhere", "nearby", "overhead", "together",
}
_DETERMINERS = {"a", "an", "the", "this", "that", "another", "one", "his", "her", "its",
                "their", "my", "your", "our", "some", "several", "few", "many", "multiple",
                "lots", "these", "those", "each", "single", "lone", "just", "only"}
_SIZE_WORDS = {"small": "small", "tiny": "small", "little": "small", "mini": "small",
               "miniature": "small", "big": "large", "large": "large", "huge": "large",
               "giant": "large", "enormous": "large", "massive": "large", "tall": "large"}
_PRONOUNS = {"it", "them", "this", "that", "these", "those"}
_TIME_SCENES = {"night", "sunset", "rain", "snow"}   # override a place: "a city at night"
_TEXT_REFS = {"text", "title", "heading", "headline", "word", "words", "caption", "label",
              "price", "prices",
              "lettering", "letters", "slogan", "tagline", "subtitle", "message", "name",
              "texts", "titles", "headings", "headlines", "captions", "labels", "slogans",
              "taglines", "subtitles", "messages"}
_VERB_FORMS = {"sits", "stands", "lies", "hangs", "floats", "flies", "rests", "sleeps", "is",
               "are", "sitting", "standing", "lying", "hanging", "floating", "flying",
               "resting", "sleeping", "parked", "perched", "placed", "positioned", "located",
               "stacked", "arranged", "hiding", "hidden", "growing", "swimming", "walking",
               "running", "jumping", "dancing", "playing", "shown", "drawn", "set", "put",
               "kept", "piled", "leaning", "waiting", "balanced", "balancing", "glowing",
               "shining", "rising", "setting", "peeking", "grazing", "soaring", "hovering"}


@lru_cache(maxsize=1)
def _lemma_table() -> tuple[list[str], dict[str, dict[str, tuple[str, ...]]]]:
    """lemminflect's English lemma dictionary, read straight from its data files.

    lemminflect's own loader parses the 80k-line table line by line and imports numpy for
    its out-of-vocabulary model (about a second here); keeping the table as sorted lines and
    searching it by bisection starts in a few tens of milliseconds, which keeps
    ``limner plan`` quick to start.

    Returns:
        (sorted ``word,category,lemma/lemma`` lines, overrides ``{word: {UPOS: lemmas}}``).
    """
    import gzip
    import importlib.util
    import os

    spec = importlib.util.find_spec("lemminflect")
    if spec is None or not spec.submodule_search_locations:
        return [], {}
    res = os.path.join(spec.submodule_search_locations[0], "resources")
    with open(os.path.join(res, "lemma_lu.csv.gz"), "rb") as fh:
        lines = gzip.decompress(fh.read()).decode("utf-8").split("\n")
    lines.sort()
    overrides: dict[str, dict[str, tuple[str, ...]]] = {}
    with open(os.path.join(res, "lemma_overrides.csv"), encoding="utf-8") as fh:
        for line in fh:
            parts = line.strip().split(",")
            if len(parts) == 3 and not line.startswith("#"):
                overrides.setdefault(parts[0], {})[parts[1]] = (parts[2],)
    return lines, overrides


@lru_cache(maxsize=8192)
def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    """All lemmas of a lower-case English word by part of speech (``{"NOUN": ("cat",)}``)."""
    from bisect import bisect_left

    lines, overrides = _lemma_table()
    key = word + ","
    out: dict[str, tuple[str, ...]] = {}
    i = bisect_left(lines, key)
    while i < len(lines) and lines[i].startswith(key):
        _, cat, forms = lines[i].split(",", 2)
        out["AUX" if cat == "modal" else cat.upper()] = tuple(forms.split("/"))
        i += 1
    out.update(overrides.get(word, {}))
    return out


def singular(word: str) -> str:
    """English singular of a noun; plural-only nouns (sunglasses) stay as they are."""
    if word in lx.PLURAL_ONLY or word in _LEMMA_OVERRIDES:
        return _LEMMA_OVERRIDES.get(word, word)
    nouns = _lemmas(word).get("NOUN")
    if not nouns:
        return _oov_singular(word) if not _lemmas(word) and word.endswith("s") else word
    for n in nouns:
        if n in lx.COMMON_NOUNS:
            return n
    return nouns[0]


def _oov_singular(word: str) -> str:
    """Singular of a plural the dictionary lacks ("seagulls", "capybaras") by suffix."""
    if word.endswith(("ss", "us", "is")) or len(word) < 4:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def _is_plural(word: str) -> bool:
    if word in lx.PLURAL_ONLY:
        return False
    return singular(word) != word and word.endswith("s") or word in (
        "mice", "geese", "people", "children", "men", "women", "teeth", "feet")


def _pos(word: str) -> str:
    """Coarse part of speech for chunking: noun | adj | verb | other."""
    if word in lx.COMMON_NOUNS or word in lx.PLURAL_ONLY:
        return "noun"
    lem = _lemmas(word)
    if not lem:
        return "noun" if word.isalpha() and len(word) > 2 else "other"
    if "NOUN" in lem:
        if "ADJ" in lem and word.endswith(("ful", "ous", "ive", "ish", "less", "al", "ic")):
            return "adj"
        if "VERB" in lem and word.endswith(("ing", "ed")) and word not in lx.COMMON_NOUNS:
            return "verb"
        return "noun"
    if "ADJ" in lem or "ADV" in lem:
        return "adj"
    if "VERB" in lem:
        return "verb"
    return "other"


_TOKEN_RE = re.compile(r"qtext\d+|\d+(?:\.\d+)?|[a-z\u00c0-\u024f]+(?:['’\-][a-z\u00c0-\u024f]+)*"
                       r"|[,.;:!?()&/]")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


# --- English noun phrases ---------------------------------------------------------------------
@dataclass
class _NP:
    kind: str            # entity | doc | none | textref | pronoun | scene | bg | color
    end: int
    label: str = ""
    count: int = 1
    explicit: bool = False
    colors: tuple[str, ...] = ()
    attrs: tuple[str, ...] = ()
    size: str | None = None
    definite: bool = False
    head: str = ""
    words: tuple[str, ...] = ()
    container: "_NP | None" = None      # "a basket of 5 apples": the basket


def _read_count(toks: list[str], i: int) -> tuple[int | None, float, bool, int]:
    """Determiners and counts at ``toks[i]``: (count or None, pair multiplier, definite, end)."""
    n, j = len(toks), i
    count: int | None = None
    pair, definite = 0.0, False
    while j < n:
        w = toks[j]
        nxt = toks[j + 1] if j + 1 < n else ""
        if w in ("pair", "pairs") and nxt == "of":
            pair = float(count or 1)
            count, j = None, j + 2
            continue
        if w == "half" and toks[j + 1:j + 3] == ["a", "dozen"]:
            count, j = 6, j + 3
            continue
        if w in ("couple", "trio", "quartet", "dozen") and nxt == "of":
            count, j = {"couple": 2, "trio": 3, "quartet": 4, "dozen": 12}[w], j + 2
            continue
        if w.isdecimal() and len(w) <= 3 and nxt not in ("am", "pm", "k", "%"):
            count, j = int(w), j + 1
            continue
        if w in lx.NUMBER_WORDS and w not in ("a", "an"):
            count, j = lx.NUMBER_WORDS[w] if w not in ("single", "lone", "solitary") else 1, j + 1
            continue
        if w in ("a", "an"):
            count, j = count or 1, j + 1
            continue
        if w in lx.VAGUE_COUNTS and nxt != "of":
            count, j = lx.VAGUE_COUNTS[w], j + 1
            continue
        if w in ("the", "this", "that", "these", "those", "his", "her", "its", "their", "my",
                 "your", "our", "another", "each", "just", "only"):
            definite = definite or w in ("the", "this", "that", "these", "those")
            j += 1
            continue
        break
    return count, pair, definite, j


def _read_words(toks: list[str], j: int) -> tuple[list[tuple[str, str]], list[str], int]:
    """Modifiers and nouns of a noun phrase from ``toks[j]``: ([(word, pos)], colours, end)."""
    n = len(toks)
    words: list[tuple[str, str]] = []
    colors: list[str] = []
    while j < n:
        w = toks[j]
        if w.startswith("qtext") or not w[0].isalnum() or w in _STOP or \
                match_phrase(toks, j) is not None:
            if w == "and" and colors and j + 1 < n and color_word(toks, j + 1)[0]:
                j += 1
                continue
            break
        c, k = color_word(toks, j)
        if k:
            nxt = toks[j + k] if j + k < n else ""
            noun_follows = nxt and nxt not in _STOP and nxt[0].isalnum() and \
                not nxt.startswith("qtext") and _pos(nxt) in ("noun", "adj")
            if w not in lx.AMBIGUOUS_COLORS or noun_follows or not words and nxt in (
                    "background", "backdrop", "text", "letters", "lettering"):
                colors.append(c)
                j += k
                continue
        pos = _pos(w)
        if w.isdigit():
            break
        if pos == "verb":
            has_noun = any(p == "noun" for _, p in words)
            nxt = toks[j + 1] if j + 1 < n else ""
            if has_noun or not nxt or nxt in _STOP or _pos(nxt) not in ("noun", "adj"):
                break
            pos = "adj"
        if pos == "other" or pos == "adj" and any(p == "noun" for _, p in words):
            break        # English adjectives come before their noun: "mice placed ..." ends
        words.append((w, pos))
        j += 1
    return words, colors, j


def _label_from(nouns: list[str]) -> str:
    """A singular label from a run of nouns: the head lemmatised, one modifier noun kept
    ("ice blocks" -> "ice block"), or a known three-word compound ("hot air balloon")."""
    head = singular(nouns[-1])
    for size in (3, 2):
        if len(nouns) >= size and " ".join(nouns[-size:-1] + [head]) in lx.COMPOUNDS:
            return " ".join(nouns[-size:-1] + [head])     # "soccer ball", "hot air balloon"
    # Image-type modifiers go ("product", "cute"), but a modifier that is itself a thing keeps
    # its kind: "coffee bean" is not any bean.
    nouns = [w for w in nouns if w not in lx.STYLE_WORDS and (w not in lx.IMAGE_MODIFIERS
             or w in lx.COMMON_NOUNS) or w == nouns[-1]]
    if len(nouns) >= 3 and " ".join(nouns[-3:-1] + [head]) in lx.COMPOUNDS:
        return " ".join(nouns[-3:-1] + [head])
    if len(nouns) >= 2:
        return f"{nouns[-2]} {head}"
    return head


def _scene_word(word: str) -> str | None:
    """The scene a word names on its own ("beach", "night-sky", "starry"), else None;
    everyday nouns such as "table" only name a scene as a place (see PLACE_NOUNS)."""
    for w in (word, word.replace("-", " ")):
        if w in lx.SCENE_BARE:
            return lx.SCENE_BARE[w]
        if w in lx.SCENE_WORDS and w not in lx.COMMON_NOUNS:
            return lx.SCENE_WORDS[w]
    parts = word.split("-")
    return _scene_word(parts[0]) if len(parts) > 1 and parts[0] else None


def _classify(words: list[tuple[str, str]], colors: list[str]) -> tuple[str, list[str]]:
    """Kind of a noun phrase by its head, and the nouns that name the object."""
    if not words:
        return ("color" if colors else "none"), []
    names = [w for w, _ in words]
    head = names[-1]
    if words[-1][1] != "noun":
        return ("color" if colors else "none"), []
    if head in ("background", "backdrop", "bg", "gradient"):
        return "bg", []
    scene_words = [w for w in names if w in lx.SCENE_WORDS and w not in lx.COMMON_NOUNS]
    if head in lx.SCENE_WORDS and head not in lx.COMMON_NOUNS or \
            scene_words and head in ("sky", "scene", "view", "setting"):
        return "scene", [scene_words[0] if scene_words else head]
    if head in lx.PICTURE_WORDS:
        nouns = [w for w, p in words if p == "noun"]
        while nouns and (nouns[-1] in lx.PICTURE_WORDS or nouns[-1] in lx.IMAGE_MODIFIERS
                         or nouns[-1] in lx.DOC_WORDS):
            nouns.pop()
        if nouns and all(_scene_word(w) for w in nouns):
            return "doc", [_scene_word(nouns[0])]        # "a beach photo": the setting
        return ("entity", nouns) if nouns else ("doc", [])
    if head in lx.DOC_WORDS:
        # "a night sky poster", "a night-sky banner": the topic before it is a setting
        setting = next((_scene_word(w) for w in names[:-1] if _scene_word(w)), None)
        return "doc", [setting] if setting else []
    if head in _TEXT_REFS:
        return "textref", []
    if head in lx.NON_OBJECTS:
        # A known compound is a thing even when its head alone is not ("traffic light").
        if len(names) >= 2 and f"{names[-2]} {singular(head)}" in lx.COMPOUNDS:
            return "entity", names[-2:]
        return "none", []
    nouns = []
    for w, p in reversed(words):
        if p != "noun" or w in _SIZE_WORDS:
            break
        nouns.insert(0, w)
    if nouns and len(names) > len(nouns) and \
            f"{names[-len(nouns) - 1]} {singular(nouns[0])}" in lx.COMPOUNDS:
        nouns.insert(0, names[-len(nouns) - 1])       # "watering can", "fried egg"
    return ("entity" if nouns else "none"), nouns


def parse_np(toks: list[str], i: int) -> _NP | None:
    """The noun phrase starting at ``toks[i]`` (determiner, count, colours, modifiers, nouns,
    and "of" continuations for measures and containers), or None when none starts there."""
    if toks[i] in _PRONOUNS and (i + 1 >= len(toks) or toks[i + 1] in _STOP
                                 or _pos(toks[i + 1]) != "noun"):      # "below it and ..."
        return _NP("pronoun", i + 1, head=toks[i])
    count, pair, definite, j = _read_count(toks, i)
    words, colors, j = _read_words(toks, j)
    if not words and not colors and count is None:
        return None
    kind, nouns = _classify(words, colors)
    names = tuple(w for w, _ in words)
    attrs = tuple(w for w, p in words if p == "adj" and w not in _SIZE_WORDS)
    size = next((_SIZE_WORDS[w] for w in names if w in _SIZE_WORDS), None)
    np_ = _NP(kind, j, colors=tuple(colors), attrs=attrs, size=size, definite=definite,
              head=names[-1] if names else "", words=names, explicit=count is not None)
    if kind == "scene":
        np_.label = lx.SCENE_WORDS.get(nouns[0], nouns[0])
        return np_
    if kind == "doc" and nouns:
        np_.label = nouns[0]            # a scene name already (see _classify)
    head = names[-1] if names else ""
    of_next = j + 1 < len(toks) and toks[j] == "of"
    if of_next and head in lx.PICTURE_WORDS | lx.DOC_WORDS:
        return _NP("doc", j, head=head, label=nouns[0] if kind == "doc" and nouns else "")
    measure = "glass" if head == "glasses" else singular(head)
    if of_next and measure in lx.PORTIONS | lx.CONTAINERS | lx.ARRANGEMENTS:
        inner = parse_np(toks, j + 1)
        if inner is not None and inner.kind == "entity" and (
                inner.explicit or measure in lx.ARRANGEMENTS and measure not in lx.CONTAINERS):
            # "a row of five umbrellas", "a basket of 5 apples": the contents are counted
            if measure not in lx.ARRANGEMENTS and measure not in lx.PORTIONS:
                np_.label, np_.count, np_.kind = measure, count or 1, "entity"
                inner.container = np_
            return inner
        if inner is not None and inner.kind == "entity":
            food = inner.label
            np_.kind, np_.end = "entity", inner.end
            np_.label = f"{measure} of {food}"
            np_.colors = tuple(colors) or inner.colors
            np_.count = count or 1
            return np_
    if kind != "entity":
        return np_
    np_.label = _label_from(nouns)
    last = nouns[-1]
    if pair:
        np_.count = int(pair) * (1 if last in lx.PAIR_ONE_ITEM else 2)
        np_.explicit = True
    elif count is not None:
        np_.count = count
    else:
        np_.count = (2 if definite else 3) if _is_plural(last) else 1
    return np_


# --- English relations ------------------------------------------------------------------------
def _build_phrases() -> list[tuple[tuple[str, ...], str, str]]:
    """(tokens, kind, value) with kind rel | pos | edge_of | inv; longest first."""
    p: list[tuple[tuple[str, ...], str, str]] = []
    for side in ("left", "right"):
        for pre in (("to", "the"), ("on", "the"), ("at", "the"), ()):
            p.append((pre + (side, "of"), "rel", f"{side} of"))
            if pre:
                p.append((pre + (side, "side", "of"), "rel", f"{side} of"))
                p.append((pre + (side, "hand", "side", "of"), "rel", f"{side} of"))
                p.append((pre + (side,), "pos", side))
                p.append((pre + (side, "side"), "pos", side))
                p.append((pre + (side, "hand", "side"), "pos", side))
        for pron in ("its", "their", "his", "her"):
            for pre in (("to",), ("on",), ("at",), ()):
                p.append((pre + (pron, side), "relit", f"{side} of"))
                p.append((pre + (pron, side, "side"), "relit", f"{side} of"))
    for v in ("top", "bottom"):
        for h in ("left", "right"):
            for pre in (("in", "the"), ("at", "the"), ("on", "the"), ("at",), ()):
                for form in ((v, h), (f"{v}-{h}",)):
                    p.append((pre + form + ("corner",), "pos", f"{v} {h}"))
                    if pre:
                        p.append((pre + form, "pos", f"{v} {h}"))
    for v in ("top", "bottom"):
        for pre in (("at", "the"), ("on", "the"), ("along", "the"), ("across", "the"),
                    ("near", "the")):
            p.append((pre + (v, "of"), "edge_of", v))
            p.append((pre + (v,), "pos", v))
        p.append((("at", v), "pos", v))
    p += [(("on", w, side), "eachside", "between") for w in ("each", "either", "both")
          for side in ("side", "sides")]
    p += [(("on", "top", "of"), "rel", "on"), (("on", "top"), "ontop", "top"),
          (("up", "top"), "pos", "top")]
    for word in ("center", "centre", "middle"):
        for pre in (("in", "the"), ("at", "the")):
            p.append((pre + (word, "of"), "edge_of", "center"))
            p.append((pre + (word,), "pos", "center"))
    p += [((w,), "pos", "center") for w in ("centered", "centred")]
    simple = {
        "above": "above", "over": "above", "atop": "on", "on": "on", "onto": "on",
        "upon": "on", "riding": "on", "below": "below", "beneath": "under",
        "underneath": "under", "under": "under", "beside": "beside", "alongside": "beside",
        "near": "beside", "nearby": "beside", "between": "between", "around": "around",
        "surrounding": "around", "encircling": "around", "circling": "around",
        "orbiting": "around", "in": "in", "inside": "in", "within": "in", "into": "in",
        "behind": "behind", "wearing": "wearing", "wears": "wearing", "holding": "holding",
        "holds": "holding", "carrying": "holding", "carries": "holding", "against": "against",
        "among": "around", "amid": "around",
    }
    p += [((k,), "rel", v) for k, v in simple.items()]
    p += [(("next", "to"), "rel", "next to"), (("close", "to"), "rel", "beside"),
          (("in", "front", "of"), "rel", "in front of"), (("in", "back", "of"), "rel", "behind"),
          (("inside", "of"), "rel", "in"), (("dressed", "in"), "rel", "wearing"),
          (("flanked", "by"), "rel", "between"), (("surrounded", "by"), "inv", "around"),
          (("encircled", "by"), "inv", "around"), (("ringed", "by"), "inv", "around"),
          (("filled", "with"), "inv", "in"), (("full", "of"), "inv", "in"),
          (("down", "below"), "rel", "below"), (("up", "above"), "rel", "above"),
          (("on", "either", "side", "of"), "inv", "between"),
          (("on", "both", "sides", "of"), "inv", "between")]
    p.sort(key=lambda t: -len(t[0]))
    return p


_PHRASES = _build_phrases()
_PHRASE_INDEX: dict[str, list[tuple[tuple[str, ...], str, str]]] = {}
for _ph in _PHRASES:
    _PHRASE_INDEX.setdefault(_ph[0][0], []).append(_ph)
_CLOTHING = {"hat", "cap", "scarf", "sunglasses", "glasses", "jacket", "coat", "dress",
             "sweater", "shirt", "t-shirt", "hoodie", "crown", "helmet", "boot", "shoe",
             "sock", "tie", "bowtie", "bow", "necklace", "costume", "suit", "uniform",
             "headphones", "mask", "goggles", "raincoat", "cape", "vest", "kimono", "apron",
             "beanie", "bandana", "collar", "pants", "jeans", "skirt", "glove", "mitten"}


def match_phrase(toks: list[str], i: int) -> tuple[str, str, int] | None:
    """The relation or position phrase at ``toks[i]``: (kind, value, length) or None."""
    for words, kind, value in _PHRASE_INDEX.get(toks[i], ()):
        if tuple(toks[i:i + len(words)]) == words:
            return kind, value, len(words)
    return None


# --- facts gathered while reading ---------------------------------------------------------------
@dataclass
class _Facts:
    """Mutable notes of one reading; turned into a frozen Scene at the end."""

    entities: list[dict] = field(default_factory=list)
    texts: list[dict] = field(default_factory=list)
    relations: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    dependent: set[str] = field(default_factory=set)
    bg_colors: list[str] = field(default_factory=list)
    gradient: bool = False
    scene: str | None = None
    text_color: str | None = None
    proper: set[str] = field(default_factory=set)    # capitalised names: Paris, Tom
    pending_text: dict = field(default_factory=dict)  # attributes for the next quote

    def add_entity(self, label: str, count: int = 1, color: str | None = None, **kw) -> str:
        self.entities.append(dict(label=label, count=max(1, min(count, 50)), color=color, **kw))
        ref = f"entity:{len(self.entities) - 1}"
        self.mentions.append(ref)
        return ref

    def add_text(self, content: str, role: str) -> str:
        self.texts.append(dict(content=content, role=role, color=None, position=None))
        self.texts[-1].update(self.pending_text)   # 'a big red title "SALE"'
        self.pending_text = {}
        ref = f"text:{len(self.texts) - 1}"
        self.mentions.append(ref)
        return ref

    def item(self, ref: str) -> dict:
        kind, idx = ref.split(":")
        return (self.entities if kind == "entity" else self.texts)[int(idx)]

    def last(self, skip: str | None = None, independent: bool = False) -> str | None:
        for ref in reversed(self.mentions):
            if ref != skip and not (independent and ref in self.dependent):
                return ref
        return None

    def last_text(self) -> str | None:
        return next((r for r in reversed(self.mentions) if r.startswith("text:")), None)

    def relate(self, subject: str | None, rel: str, target: str | None,
               target2: str | None = None) -> None:
        if subject is None or subject == target or subject == target2:
            return
        if rel in ("wearing", "holding") and target:
            self.dependent.add(target)
        self.relations.append((subject, rel, target, target2))


def _resolve(f: _Facts, pend: dict | None, ref: str) -> dict | None:
    """Give a waiting relation its target (or its subject when the phrase came first).

    Returns:
        The relation still waiting (``between`` before its second anchor), else None.
    """
    if pend is None:
        return None
    rel, subj = pend["rel"], pend.get("subject")
    if subj is None:
        if "target" not in pend:
            return dict(pend, target=ref)
        subj, ref = ref, pend["target"]
        if rel == "between":
            f.relate(subj, "between", ref)
            return None
    if rel == "between" and not pend.get("inv"):
        if "t1" not in pend:
            return dict(pend, t1=ref)
        f.relate(subj, "between", pend["t1"], ref)
        return None
    if pend.get("inv"):
        f.relate(ref, rel, subj)
        return None
    if rel == "in" and ref.startswith("entity:") and \
            f.item(ref)["label"].split()[-1] in _CLOTHING:
        rel = "wearing"
    if rel == "against":
        return None
    f.relate(subj, rel, ref)
    return None


_DANGLING = {"above", "below", "under", "beside", "next to", "behind", "in front of"}


def _finish(f: _Facts, pend: dict | None) -> None:
    """Close a waiting relation: a ``between`` with one anchor group ("between two ice
    blocks"), or a direction with no object ("... and a cat below") that then refers to
    the thing named before its subject."""
    if not pend or pend.get("inv"):
        return
    if pend["rel"] == "between" and "t1" in pend:
        f.relate(pend.get("subject"), "between", pend["t1"])
    elif pend["rel"] in _DANGLING and pend.get("subject") and "target" not in pend:
        f.relate(pend["subject"], pend["rel"], f.last(skip=pend["subject"]))


# --- English reading ----------------------------------------------------------------------------
def _text_role(toks: list[str], i: int, f: _Facts) -> tuple[str, bool]:
    """Role of the quote at ``toks[i]`` from the cue words before it; and whether it
    continues a list of quotes ("Seed", "Sprout", "Bloom")."""
    prev = toks[i - 1] if i else ""
    before = toks[i - 2] if i > 1 else ""
    if prev in (",", "and", "or", "&", "/", "then") and before.startswith("qtext") and f.texts:
        return f.texts[-1]["role"], True
    cues = set(toks[max(0, i - 4):i])
    if cues & lx.LABEL_CUES:
        return "label", False
    if cues & {"subtitle", "tagline", "subheading", "subhead", "strapline"} and \
            any(t["role"] == "title" for t in f.texts):
        return "subtitle", False
    if prev == "by" or cues & {"caption", "captioned", "subtitle", "tagline", "footer"}:
        return "caption", False
    has_title = any(t["role"] == "title" for t in f.texts)
    if cues & lx.TITLE_CUES or not f.texts:
        return ("heading" if has_title else "title"), False
    return "body", False


def _english_text(toks: list[str], i: int, quotes: list[str], f: _Facts) -> str | None:
    """A quote becomes a text element, except a name ('a cat named "Tom"')."""
    content = quotes[int(toks[i][5:])]
    named = set(toks[max(0, i - 2):i]) & lx.NAME_CUES
    if named and not _names_a_brand(toks, i):
        ent = f.last()
        if ent and ent.startswith("entity:"):
            f.item(ent)["description"] = f"named {content}"
        return None
    role, cont = _text_role(toks, i, f)
    if role == "heading" and len(content.split()) > 6:
        role = "body"    # a second, sentence-long text is body copy, not a heading
    if named:        # the shop's, brand's or app's name is the image's main text
        role, cont = ("heading" if any(t["role"] == "title" for t in f.texts) else "title"), False
    if cont and role == "title":
        for t in f.texts[-1:]:
            t["role"] = "body"
        role = "body"
    last = f.last()
    ref = f.add_text(content, role)
    if i and toks[i - 1] in ("labeled", "labelled", "marked", "tagged") and last and \
            last.startswith("entity:"):
        f.relate(ref, "next to", last)
    return ref


def _names_a_brand(toks: list[str], i: int) -> bool:
    """Does the name cue before the quote at ``toks[i]`` name a logo, brand, shop, café, app
    or product ("a coffee shop called", "a tea brand named")? A pet or a person does not."""
    k = i - 1
    while k >= 0 and toks[k] not in lx.NAME_CUES:
        k -= 1
    j = k - 1
    while j >= 0 and toks[j] in (",", "that", "which", "is", "was", "simply", "just"):
        j -= 1
    return j >= 0 and singular(toks[j]) in lx.BRAND_NOUNS


_QUOTE_LEAD = {"that", "which", "saying", "says", "say", "reads", "reading", "read", ":",
               "of", "the", "words", "word", "written", "with", "is", "reads:", "text"}


def _quote_follows(toks: list[str], j: int) -> bool:
    """Is the next quote right after ``toks[j]`` (only cue words between)?"""
    for k in range(j, min(j + 4, len(toks))):
        if toks[k].startswith("qtext"):
            return True
        if toks[k] not in _QUOTE_LEAD:
            return False
    return False


def _text_attrs(np_: _NP) -> dict:
    """What a text-naming phrase says about its text: 'a big bold red title'."""
    out: dict = {}
    if np_.colors:
        out["color"] = np_.colors[0]
    if np_.size:
        out["size"] = "large" if np_.size == "large" else "small"
    if "bold" in np_.words:
        out["weight"] = "bold"
    return out


def _on_position(f: _Facts, toks: list[str], i: int, value: str) -> str | None:
    """Absolute position: for the item just named, or the next one at a clause start.

    Returns:
        The position still waiting for the next mention, else None.
    """
    prev = toks[i - 1] if i else ""
    ref = f.last(independent=True)
    if ref is None or prev in ("", "and", ",", "with", ".", ";", "while", "plus"):
        return value
    f.item(ref)["position"] = value
    return None


def _on_np(f: _Facts, np_: _NP, pend: dict | None, toks: list[str],
           np_start: int) -> tuple[str | None, dict | None]:
    """Apply one noun phrase: a new or reused entity, a reference, a scene, a colour.

    Returns:
        (the mention's ref or None, the relation still waiting).
    """
    nxt = toks[np_.end] if np_.end < len(toks) else ""
    if np_.kind == "pronoun":
        subj = pend.get("subject") if pend else None
        return _pronoun(f, subj), pend
    if np_.kind == "textref":
        attrs = _text_attrs(np_)
        if attrs and _quote_follows(toks, np_.end):
            f.pending_text = attrs       # 'a big red title "SALE"': for the quote next
            return None, pend
        if np_.colors:
            _color_text(f, np_.colors[0])
        if nxt.startswith("qtext") or not pend:
            return None, pend
        return f.last_text(), pend
    if np_.kind in ("scene", "doc") and np_.label:
        f.scene = np_.label if f.scene is None or np_.label in _TIME_SCENES else f.scene
    elif np_.kind == "bg":
        f.bg_colors += list(np_.colors)
        f.gradient = f.gradient or "gradient" in np_.words
    elif np_.kind == "color" and f.gradient:      # "a gradient from purple to orange"
        f.bg_colors += list(np_.colors)
    elif np_.kind == "color" and pend:
        subj = pend.get("subject")
        if pend["rel"] in ("on", "against"):
            f.bg_colors += list(np_.colors)
        elif subj and subj.startswith("text:"):
            _color_text(f, np_.colors[0], subj)
        elif subj:
            f.item(subj)["color"] = f.item(subj)["color"] or np_.colors[0]
    if np_.kind != "entity":
        return None, None
    before = toks[np_start - 1] if np_start else ""
    head = np_.words[-1] if np_.words else ""
    if f.gradient and before in ("to", "into", "and") and np_.label in _css_names():
        f.bg_colors.append(np_.label)      # "... to orange": a colour, not the fruit
        return None, None
    subj = pend.get("subject") if pend else None
    if pend and pend["rel"] in ("in", "on") and subj and subj.startswith("text:") and \
            np_.label in lx.TEXT_FRAMES:
        t = f.item(subj)                   # '"NEW" in a red circle': the text's frame
        t["frame"] = lx.TEXT_FRAMES[np_.label]
        if np_.colors:
            t["frame_color"] = np_.colors[0]
        return None, None
    if pend and pend["rel"] == "in" and subj and subj.startswith("text:") and \
            np_.label in _css_names() and not np_.explicit:
        _color_text(f, np_.label, subj)    # '"Breakfast" written in gold'
        return None, None
    if before in lx.TOPIC_CUES and np_.label.split()[-1] not in lx.COMMON_NOUNS \
            or head in f.proper or head in lx.BODY_PARTS and not np_.explicit:
        return None, None
    if np_.definite and not np_.explicit:
        head_of = lambda label: label.split()[-1]  # noqa: E731 - "the cake": a birthday cake
        for same in (lambda e: e["label"] == np_.label,
                     lambda e: head_of(e["label"]) == head_of(np_.label)):
            for k in range(len(f.entities) - 1, -1, -1):
                if same(f.entities[k]):
                    f.mentions.append(f"entity:{k}")
                    return f"entity:{k}", pend
    place = _place_scene(f, np_, pend, toks, np_start)
    if place is not None:          # "apples on a table": where the picture is set
        f.scene = place if f.scene is None or place in _TIME_SCENES else f.scene
        return None, None
    box = None
    if np_.container is not None:
        c = np_.container
        box = f.add_entity(c.label, c.count, c.colors[0] if c.colors else None,
                           attributes=c.attrs, size=c.size, description=" ".join(c.attrs))
    ref = f.add_entity(np_.label, np_.count, np_.colors[0] if np_.colors else None,
                       attributes=np_.attrs, size=np_.size,
                       description=" ".join(np_.attrs))
    if box:
        f.relate(ref, "in", box)
    return ref, pend


def _place_scene(f: _Facts, np_: _NP, pend: dict | None, toks: list[str],
                 np_start: int) -> str | None:
    """The scene an everyday noun names when it is where something is, not a thing the user
    counted or described: "three apples on a table", "a boat on the lake", "a tent under
    the stars". A counted, coloured or sized one ("on two tables", "on a blue table", "on
    a small table"), one used as a container, or one not after a place preposition ("under
    a table", "a table with chairs") stays an object.

    Returns:
        The SCENES name, or None when the noun phrase is an object.
    """
    prep = toks[np_start - 1] if np_start else ""
    entry = lx.PLACE_NOUNS.get(np_.label.split()[-1])
    if entry is None or pend is None or prep not in entry[1] or np_.colors or np_.size \
            or np_.container is not None or np_.explicit and np_.count != 1:
        return None
    if any(e["label"] == np_.label for e in f.entities):
        return None
    return entry[0]


def _pronoun(f: _Facts, subject: str | None) -> str | None:
    """What "it" names: the latest thing before the subject, passing over a surface that
    something was put on ("a cat on a mat, with words above it" -> the cat)."""
    surfaces = {t for _, r, t, _ in f.relations if r == "on"}
    for ref in reversed(f.mentions):
        if ref != subject and ref not in surfaces:
            return ref
    return f.last(skip=subject)


def _color_text(f: _Facts, color: str, ref: str | None = None) -> None:
    ref = ref or f.last_text()
    if ref is None:
        f.text_color = color
    else:
        f.item(ref)["color"] = color


def _each_side(f: _Facts) -> None:
    subj = f.last(independent=True)
    if subj is None or not subj.startswith("entity:"):
        return
    ent = f.item(subj)
    ent["count"] = min(ent["count"] * 2, 50)
    base = _pronoun(f, subj)
    if base is not None:
        f.relate(base, "between", subj)


def _on_top(f: _Facts, toks: list[str], i: int) -> bool:
    """"a bowl of ramen with two eggs on top": on the thing named before, if any."""
    subj = f.last(independent=True)
    base = f.last(skip=subj) if subj else None
    if not (subj and base and base.startswith("entity:")) or (toks[i - 1] if i else "") in (
            "", "and", ",", "."):
        return False
    f.relate(subj, "on", base)
    return True


def _start_relation(f: _Facts, toks: list[str], i: int, kind: str, value: str) -> dict:
    prev = toks[i - 1] if i else ""
    verb_before = prev in _VERB_FORMS or (prev.endswith("ing") and _pos(prev) == "verb")
    independent = verb_before or value in ("wearing", "holding")
    subj = f.last(independent=independent)
    if prev in (".", ";", "!", "?", "") or prev in ("and", ",", "while", "where") and \
            _fronted(toks, i):
        subj = None      # "... and below it there are two astronauts": the subject follows
    return {"rel": value, "subject": subj, "inv": kind == "inv"}


def _fronted(toks: list[str], i: int) -> bool:
    """Is the relation phrase at ``toks[i]`` fronted ("below it, there are ...")?"""
    m = match_phrase(toks, i)
    j = i + (m[2] if m else 1)
    np_ = parse_np(toks, j) if j < len(toks) and toks[j][0].isalnum() else None
    if np_ is None:
        return False
    if np_.kind == "pronoun":
        return True      # "a cat and below it a dog": "it" is the cat, the dog follows
    nxt = toks[np_.end] if np_.end < len(toks) else ""
    return nxt in ("there", ",", "is", "are", "sits", "stands", "hangs", "lies", "floats",
                   "flies", "sit", "stand", "hang", "we", "you", "put", "place", "draw")


def _read_english(text: str, quotes: list[str], f: _Facts) -> None:
    """Walk the tokens once: quotes, relation phrases, positions and noun phrases."""
    toks = _tokens(text)
    i, n = 0, len(toks)
    pend: dict | None = None
    pos_next: str | None = None
    while i < n:
        w = toks[i]
        ref, end = None, i + 1
        if w.startswith("qtext"):
            ref = _english_text(toks, i, quotes, f)
        elif w in (".", ";", "!", "?"):
            _finish(f, pend)
            pend = None
        elif w in lx.NAME_CUES and i + 1 < n and not toks[i + 1].startswith("qtext"):
            end = i + 2      # 'a dog named Rex': the name is not a thing to draw
        elif (m := match_phrase(toks, i)) is not None:
            kind, value, length = m
            end = i + length
            if kind == "edge_of":
                np_ = parse_np(toks, end) if end < n else None
                if np_ is None or np_.kind in ("doc", "none", "pronoun") and np_.head != "it":
                    pos_next = _on_position(f, toks, i, value) or pos_next
                    end = np_.end if np_ else end
                else:
                    pend = _start_relation(f, toks, i, "rel",
                                           {"top": "on", "bottom": "under"}.get(value, "in"))
            elif kind == "ontop" and _on_top(f, toks, i):
                pass
            elif kind == "eachside":     # "a door with a lamp on each side": two lamps
                _each_side(f)
            elif kind == "relit":        # "a croissant to its left": left of the thing before
                subj = f.last(independent=True)
                f.relate(subj, value, _pronoun(f, subj) if subj else None)
            elif kind in ("pos", "ontop"):
                pos_next = _on_position(f, toks, i, value) or pos_next
            else:
                _finish(f, pend)
                pend = _start_relation(f, toks, i, kind, value)
        elif w[0].isalnum() and (np_ := parse_np(toks, i)) is not None:
            end = max(np_.end, i + 1)
            ref, pend = _on_np(f, np_, pend, toks, i)
            if np_.kind not in ("entity", "pronoun", "textref"):
                pend = None
        if ref is not None:
            if pos_next and ref.startswith(("entity", "text")):
                f.item(ref)["position"], pos_next = pos_next, None
            pend = _resolve(f, pend, ref)
            if pend and "t1" in pend and (toks[end] if end < n else "") != "and":
                _finish(f, pend)
                pend = None
        i = end
    _finish(f, pend)


# --- whole-prompt facts: aspect, size, scale, transparency, style ------------------------------
_RATIO_RE = re.compile(r"(?<![\d:.])(\d{1,2})\s*[:：∶]\s*(\d{1,2})(?![\d:])")
_PIXELS_RE = re.compile(r"(?<![\d])(\d{3,4})\s*[x×*]\s*(\d{3,4})(?![\d])")
_SCALE_RE = re.compile(r"(?<![a-z0-9])([124])\s?k(?![a-z0-9])"
                       r"|\b(uhd|ultra hd|full hd|1080p|2160p)\b")
_TIME_WORDS = ("at", "by", "until", "till", "from", "before", "after", "around")


def _aspect_and_size(low: str) -> tuple[tuple[int, int] | None, tuple[int, int] | None,
                                        str, str | None]:
    """Explicit ratio or pixel size, then aspect words; also 1K/2K/4K.

    Returns:
        (aspect, size, text with ratios and sizes masked, scale).
    """
    aspect = size = None
    m = _PIXELS_RE.search(low)
    if m:
        size = (int(m.group(1)), int(m.group(2)))
        low = low[:m.start()] + " sizemark " + low[m.end():]
    for m in _RATIO_RE.finditer(low):
        before = low[:m.start()].split()[-1:] or [""]
        after = low[m.end():m.end() + 3].strip()
        a, b = int(m.group(1)), int(m.group(2))
        if before[0] in _TIME_WORDS or after.startswith(("am", "pm")) or not a or not b:
            continue
        aspect = (a, b)
        low = low[:m.start()] + " aspectmark " + low[m.end():]
        break
    scale = None
    s = _SCALE_RE.search(low)
    if s:
        word = s.group(1) or s.group(2)
        scale = {"1": "1K", "2": "2K", "4": "4K", "full hd": "2K", "1080p": "2K"}.get(word, "4K")
    if aspect is None and size is None:
        aspect = _aspect_words(low)
    return aspect, size, low, scale


def _aspect_words(low: str) -> tuple[int, int] | None:
    """The longest aspect phrase in the prompt ("vertical banner" beats "banner")."""
    best: tuple[int, int, tuple[int, int]] | None = None
    turn: tuple[int, tuple[int, int]] | None = None      # first orientation word
    for phrase, ratio in lx.ASPECT_PHRASES:
        if phrase.isascii():
            m = re.search(r"(?<![a-z\-])" + re.escape(phrase) + r"(?![a-z\-])", low)
            if not m:
                continue
            if phrase in lx.ADJ_ASPECTS and not _aspect_adj_ok(low, m.start(), m.end()):
                continue
            pos = m.start()
        else:
            pos = low.find(phrase)
            if pos < 0:
                continue
        key = (len(phrase), -pos)
        if best is None or key > best[:2]:
            best = (key[0], key[1], ratio)
        if phrase in lx.ORIENTATION_WORDS and (turn is None or pos < turn[0]):
            turn = (pos, ratio)
    if best and turn and _shape(best[2]) != _shape(turn[1]):
        return turn[1]          # "横版海报": the orientation word beats the poster's shape
    return best[2] if best else None


def _shape(ratio: tuple[int, int]) -> int:
    return (ratio[0] > ratio[1]) - (ratio[0] < ratio[1])


def _aspect_adj_ok(low: str, start: int, end: int) -> bool:
    """'wide' or 'tall' name the canvas only next to image words ('a tall poster', 'in
    landscape'), not before ordinary nouns ('a tall giraffe')."""
    nxt = re.match(r"\s*([a-z\-]+)", low[end:])
    prev = low[:start].split()[-1:] or [""]
    nword = nxt.group(1) if nxt else ""
    if nword in lx.DOC_WORDS or nword in lx.PICTURE_WORDS or nword in (
            "format", "orientation", "aspect", "layout", "ratio", "mode", "canvas", "version",
            "crop", "frame", "composition") or nword in lx.IMAGE_MODIFIERS:
        return True
    if nword == "of" and low[start:end] in ("portrait", "landscape", "panorama"):
        return True
    return prev[0] in ("in", "make", "it", "be", "is", "as") or not nword or \
        low[end:end + 1] in ",.;!?)"


def _transparent(low: str) -> bool:
    low = low.replace("-", " ")
    if any(p in low for p in lx.TRANSPARENT_PHRASES):
        return True
    return re.search(r"transparen\w*\s+(?:\w+\s+){0,2}(?:background|backdrop|bg)\b", low) \
        is not None or re.search(r"\b(?:background|backdrop)\s+(?:is\s+|should be\s+)?"
                                 r"transparent\b", low) is not None


def _styles(low: str) -> list[str]:
    found: list[str] = []
    for w in re.findall(r"[a-z0-9][a-z0-9\-]*", low):
        name = lx.STYLE_WORDS.get(w)
        if name and name not in found:
            found.append(name)
    for w, name in lx.CJK_STYLES.items():
        if w in low and name not in found:
            found.append(name)
    spaced = low.replace("-", " ")
    for phrase, name in lx.STYLE_PHRASES.items():
        if re.search(rf"\b{re.escape(phrase)}\b", spaced) and name not in found:
            found.append(name)
    return found


def _script_hint(low: str, prompt: str) -> str | None:
    if "traditional chinese" in low or "taiwan" in low or "hong kong" in low \
            or "繁體" in prompt or "繁体" in prompt:
        return "Hant"
    if "japan" in low or _script_counts(low).get("Kana"):
        return "Jpan"
    return None


# --- Chinese and Japanese reading --------------------------------------------------------------
_QMARK = "\ue000"
_QEND = "\ue001"
_CJK_NUM_CHARS = "零〇一壹二两兩貳三四五六七八九十百几幾"
_CJK_PUNCT = "，。,；;！!？?：:（）()\n"


@dataclass(frozen=True)
class _Tok:
    kind: str        # num noun color doc rel scene text mark punct other
    value: object = None
    extra: object = None


@lru_cache(maxsize=1)
def _cjk_table() -> tuple[dict[str, _Tok], int]:
    """One longest-match table over all Chinese/Japanese words; later kinds win ties."""
    table: dict[str, _Tok] = {}
    for w in lx.CJK_DOC_WORDS:
        table[w] = _Tok("doc", w)
    for w, label in lx.CJK_NOUNS.items():
        table[w] = _Tok("noun", label)
    for w, c in lx.CJK_COLORS.items():
        table[w] = _Tok("color", c)
    for w, s in lx.CJK_SCENES.items():
        table[w] = _Tok("scene", s)
    for w, r in lx.CJK_RELS.items():
        table[w] = _Tok("rel", r)
    for w, m in lx.CJK_MARKS.items():
        table[w] = _Tok("mark", m)
    for w, m in lx.CJK_TEXT_SIZES.items():
        table[w] = _Tok("mark", m)
    for w, n in lx.JA_NATIVE.items():
        table[w] = _Tok("num", n)
    return table, max(len(k) for k in table)


def _cjk_number(text: str) -> int:
    if text.isdigit():
        try:
            return int(unicodedata.normalize("NFKC", text))
        except ValueError:      # digits int() cannot read ("⑼", "²"): their digit values
            return int("".join(str(unicodedata.digit(ch, 0)) for ch in text))
    total, cur = 0, 0
    for ch in text:
        v = lx.CJK_DIGITS.get(ch)
        if v is None:
            continue
        if ch == "百":
            total, cur = total + max(cur, 1) * 100, 0
        elif v == 10:
            total, cur = total + max(cur, 1) * 10, 0
        else:
            cur = v
    return total + cur


def _read_numeral(text: str, i: int) -> tuple[_Tok, int] | None:
    """A numeral with its counter at ``text[i]`` ("三只", "两碗", "3个", "一輪")."""
    j = i
    while j < len(text) and (text[j] in _CJK_NUM_CHARS or text[j].isdigit()):
        j += 1
    if j == i or (i and text[i - 1] == "第"):
        return None
    for length in (2, 1):
        counter = text[j:j + length]
        if len(counter) == length and counter in lx.CJK_COUNTERS:
            return _Tok("num", _cjk_number(text[i:j]), lx.CJK_COUNTERS[counter] or
                        ("person" if counter in ("人", "名", "位") else None)), j + length
    if text[i:j].isdigit():
        return _Tok("num", _cjk_number(text[i:j])), j
    return None


def _cjk_tokens(text: str) -> list[_Tok]:
    table, longest = _cjk_table()
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == _QMARK:
            j = text.index(_QEND, i)
            out.append(_Tok("text", int(text[i + 1:j])))
            i = j + 1
            continue
        if ch in _CJK_PUNCT:
            out.append(_Tok("punct", ch))
            i += 1
            continue
        num = _read_numeral(text, i)
        if num is not None:
            out.append(num[0])
            i = num[1]
            continue
        for length in range(min(longest, len(text) - i), 0, -1):
            tok = table.get(text[i:i + length])
            if tok is not None:
                if tok.kind != "mark" or tok.value != "skip":
                    out.append(tok)
                i += length
                break
        else:
            if not ch.isspace():
                out.append(_Tok("other", ch))
            i += 1
    return out


_POSITION_OF = {"left": "left", "right": "right", "above": "top", "below": "bottom",
                "top": "top", "bottom": "bottom", "center": "center", "top left": "top left",
                "top right": "top right", "bottom left": "bottom left",
                "bottom right": "bottom right"}
# Things other things stand on: 上/うえ/위 next to one of these means "on" it.
_SURFACES = {"table", "desk", "bed", "sofa", "couch", "chair", "bench", "stool", "shelf",
             "bookshelf", "plate", "tray", "counter", "box", "book", "cabinet", "piano",
             "rock", "stone", "car", "truck", "bicycle", "horse", "cow", "dog", "bookcase"}
_REL_OF = {"left": "left of", "right": "right of", "above": "above", "below": "below",
           "beside": "beside", "between": "between", "around": "around", "in": "in",
           "front": "in front of", "behind": "behind", "top": "on", "bottom": "under",
           "center": "in"}


@dataclass
class _CJKState:
    """What the token reader carries from one token to the next."""

    num: tuple[int, str | None] | None = None
    color: str | None = None
    position: str | None = None
    rel: dict | None = None
    marked: str | None = None
    name_next: bool = False
    clause: list[tuple[int, str]] = field(default_factory=list)   # (token index, ref)
    counted: set[str] = field(default_factory=set)


def _significant(toks: list[_Tok], k: int, step: int, skip: tuple[str, ...] = ()) -> int:
    """Index of the nearest token from ``k`` in direction ``step`` that is not a link word,
    colour, unknown character (or a kind in ``skip``); -1 when there is none."""
    k += step
    while 0 <= k < len(toks):
        t = toks[k]
        if not (t.kind == "mark" and t.value == "link" or t.kind in ("color", "other") + skip):
            return k
        k += step
    return -1


def _tok_at(toks: list[_Tok], k: int) -> _Tok:
    return toks[k] if 0 <= k < len(toks) else _Tok("none")


def _cjk_noun(f: _Facts, st: _CJKState, label: str) -> str:
    """A noun token: a new entity (with the pending count and colour) or a repeated one."""
    if st.num is None and st.color is None:
        for k, e in enumerate(f.entities):
            if e["label"] == label:
                f.mentions.append(f"entity:{k}")
                return f"entity:{k}"
    count, container = st.num if st.num else (1, None)
    if container and container not in ("person",) and container != label:
        label = f"{container} of {label}"
    ref = f.add_entity(label, count, st.color)
    if st.num:
        st.counted.add(ref)
    st.num = st.color = None
    return ref


def _noun_just_before(toks: list[_Tok], k: int, st: _CJKState) -> str | None:
    """The uncounted entity named right before ``toks[k]`` (particles may sit between)."""
    j = k - 1
    while j >= 0 and (toks[j].kind == "other" or toks[j].kind == "mark"
                      and toks[j].value in ("subject", "link")):
        j -= 1
    if j >= 0 and toks[j].kind == "noun" and st.clause and st.clause[-1][0] == j:
        ref = st.clause[-1][1]
        if ref.startswith("entity:") and ref not in st.counted:
            return ref
    return None


_GENERIC_HEADS = {"flower", "tree", "leaf", "fruit", "blossom", "plant", "bouquet"}


def _merge_noun(f: _Facts, st: _CJKState, toks: list[_Tok], k: int) -> bool:
    """'桜の花', '苹果的树': a generic head after noun + link names the same thing."""
    label = toks[k].value
    if label not in _GENERIC_HEADS or k < 2 or toks[k - 1].kind != "mark" \
            or toks[k - 1].value != "link" or toks[k - 2].kind != "noun" or not st.clause \
            or st.clause[-1][0] != k - 2 or st.num is not None:
        return False
    ent = f.item(st.clause[-1][1])
    if not ent["label"].endswith(label):
        ent["label"] = f"{ent['label']} {label}"
    st.clause[-1] = (k, st.clause[-1][1])
    return True


def _cjk_num(f: _Facts, st: _CJKState, toks: list[_Tok], k: int) -> str | None:
    """Counts attach back ("猫が三匹", "고양이 세 마리") or forward ("三只猫")."""
    tok = toks[k]
    back = _noun_just_before(toks, k, st)
    if back is not None:
        f.item(back)["count"] = max(1, min(int(tok.value), 50))
        st.counted.add(back)
        return None
    nxt = _tok_at(toks, _significant(toks, k, 1))
    if nxt.kind in ("noun", "doc"):
        st.num = (tok.value, tok.extra)
        return None
    if tok.extra:
        ref = f.add_entity(tok.extra, int(tok.value))
        st.counted.add(ref)
        return ref
    return None


def _cjk_rel(f: _Facts, st: _CJKState, toks: list[_Tok], k: int) -> None:
    """A relation word: anchored to the noun just before it, else a position on the image."""
    value = toks[k].value
    pk = _significant(toks, k, -1, skip=("num",))
    if _tok_at(toks, pk).kind == "scene" or _tok_at(toks, pk).value == "bg":
        return      # "在海滩上", "背景上": on the backdrop, not a place on the image
    anchor = st.clause[-1][1] if st.clause and pk >= 0 and st.clause[-1][0] == pk else None
    prev_tok = _tok_at(toks, pk)
    if prev_tok.kind == "doc" or prev_tok.kind == "mark" and prev_tok.value in (
            "textword", "cue"):
        anchor = f.last_text()     # "below the poster" / "below the words": below the text
        if anchor is None:
            return
    if anchor is None:
        if value == "beside" and f.mentions:
            st.rel = {"rel": "beside", "anchor": f.mentions[-1]}
        elif value in _POSITION_OF:
            later = any(t.kind in ("noun", "text", "num") for t in toks[k + 1:k + 6]
                        if t.kind != "punct")
            if later or not f.mentions:
                st.position = _POSITION_OF[value]
            else:
                f.item(f.mentions[-1])["position"] = _POSITION_OF[value]
        return
    rel = _REL_OF[value]
    if rel == "above" and anchor.startswith("entity:") and \
            f.item(anchor).get("label") in _SURFACES:
        rel = "on"      # 在桌子上 / テーブルの上 / 책상 위: on the table, not over it
    if st.marked and st.marked != anchor:
        f.relate(st.marked, rel, anchor)
    else:
        st.rel = {"rel": rel, "anchor": anchor}


def _cjk_mention(f: _Facts, st: _CJKState, ref: str, k: int) -> None:
    st.clause.append((k, ref))
    if st.position:
        f.item(ref)["position"], st.position = st.position, None
    if st.rel and st.rel["anchor"] != ref:
        f.relate(ref, st.rel["rel"], st.rel["anchor"])
        st.rel = None


def _read_tokens(toks: list[_Tok], quotes: list[str], f: _Facts) -> None:
    """Turn a Chinese/Japanese/Korean token list into facts."""
    st = _CJKState()
    for k, tok in enumerate(toks):
        ref = None
        if tok.kind == "num":
            ref = _cjk_num(f, st, toks, k)
        elif tok.kind == "noun" and _merge_noun(f, st, toks, k):
            continue
        elif tok.kind == "noun":
            ref = _cjk_noun(f, st, tok.value)
        elif tok.kind == "color":
            nk = _significant(toks, k, 1)
            nxt = _tok_at(toks, nk)
            if _names_text(nxt) and _tok_at(toks, nk + 1).kind == "text":
                f.pending_text["color"] = tok.value      # 红色标题“大促销”: that quote's colour
            elif nxt.kind == "noun":
                st.color = tok.value
            elif nxt.kind == "mark" and nxt.value == "bg":
                f.bg_colors.append(tok.value)
            elif nxt.kind == "mark" and nxt.value == "textword":
                _color_text(f, tok.value)
            elif st.clause and st.clause[-1][1].startswith("entity:"):
                f.item(st.clause[-1][1])["color"] = tok.value
        elif tok.kind == "doc":
            st.num = st.color = None
        elif tok.kind == "scene":
            f.scene = tok.value if f.scene is None or tok.value in _TIME_SCENES else f.scene
        elif tok.kind == "text":
            ref = _cjk_text(f, st, toks, k, quotes)
        elif tok.kind == "rel":
            _cjk_rel(f, st, toks, k)
        elif tok.kind == "mark":
            if tok.value == "subject" and st.clause:
                st.marked = st.clause[-1][1]
            elif tok.value == "name" and _tok_at(toks, k + 1).kind == "text":
                st.name_next = True
            elif tok.value in ("big", "small", "bold"):
                _cjk_text_size(f, toks, k)
        elif tok.kind == "punct" and tok.value not in "、":
            st.marked, st.clause, st.num, st.color = None, [], None, None
        if ref is not None:
            _cjk_mention(f, st, ref, k)


def _cjk_text_size(f: _Facts, toks: list[_Tok], k: int) -> None:
    """大号红色标题“夏日特卖”, 큰 제목 "축제": a size or weight word for the quote that
    follows (through a colour and a word for text)."""
    j = k + 1
    while j < len(toks) and (toks[j].kind == "color" or _names_text(toks[j])):
        j += 1
    if j < len(toks) and toks[j].kind == "text" and j - k <= 3:
        v = toks[k].value
        f.pending_text.update({"weight": "bold"} if v == "bold" else
                              {"size": "large" if v == "big" else "small"})


def _names_text(tok: _Tok) -> bool:
    """A word that names text: 标题, 文字, タイトル, 제목, 글자."""
    return tok.kind == "mark" and tok.value in ("cue", "textword") or \
        tok.kind == "doc" and tok.value in lx.CJK_TEXT_DOCS


def _cjk_brand_after(toks: list[_Tok], k: int) -> bool:
    """Does the clause after ``toks[k]`` name a logo, brand, shop, café, app or product
    (一个名为“茶香”的茶叶品牌标志, 「ねこ」という名前のカフェのロゴ)?"""
    joined = ""
    for tok in toks[k + 1:]:
        if tok.kind == "punct" or tok.kind == "text":
            break
        if tok.kind == "noun" and tok.value in lx.BRAND_NOUNS or \
                tok.kind == "doc" and tok.value in lx.CJK_BRAND_WORDS:
            return True
        joined += str(tok.value) if tok.kind in ("other", "doc") else " "
    return any(w in joined for w in lx.CJK_BRAND_WORDS)


def _cjk_text(f: _Facts, st: _CJKState, toks: list[_Tok], k: int, quotes: list[str]) -> str | None:
    ref = _cjk_text_ref(f, st, toks, k, quotes)
    if ref is not None:
        f.item(ref)["quote"] = int(toks[k].value)     # which quote: for _cjk_frames
    return ref


def _cjk_text_ref(f: _Facts, st: _CJKState, toks: list[_Tok], k: int,
                  quotes: list[str]) -> str | None:
    content = quotes[int(toks[k].value)]
    name_after = _tok_at(toks, k + 1).kind == "mark" and _tok_at(toks, k + 1).value == "name"
    if st.name_next or name_after:
        st.name_next = False
        if not _cjk_brand_after(toks, k):
            f.pending_text = {}
            return None          # 一只叫“小白”的猫: a pet's name
        return f.add_text(content, "heading" if any(t["role"] == "title" for t in f.texts)
                          else "title")
    prev = _tok_at(toks, _significant(toks, k, -1))
    if prev.kind == "mark" and prev.value == "conj" and f.texts and k >= 2 \
            and toks[k - 2].kind == "text":
        role = "body"
        f.texts[-1]["role"] = "body" if f.texts[-1]["role"] == "title" else f.texts[-1]["role"]
    else:
        role = "heading" if any(t["role"] == "title" for t in f.texts) else "title"
    return f.add_text(content, role)


# --- Korean reading ------------------------------------------------------------------------------
_KO_NUM_RE = re.compile(r"^(\d+)(.*)$")


def _ko_counter(word: str) -> tuple[str, str | None, str] | None:
    """``word`` starting with a counter: (counter, container label, rest)."""
    for c in sorted(lx.KO_COUNTERS, key=len, reverse=True):
        if word.startswith(c):
            return c, lx.KO_COUNTERS[c], word[len(c):]
    return None


def _ko_particle(rest: str) -> list[_Tok]:
    if rest in lx.KO_SUBJECT_MARKS:
        return [_Tok("mark", "subject")]
    if rest in ("의",):
        return [_Tok("mark", "link")]
    if rest in lx.KO_CONJ or rest in ("이랑", "하고"):
        return [_Tok("mark", "conj")]
    return [_Tok("other", rest)] if rest else []


def _ko_prefix(word: str, table: dict, kind: str, tails=lx.KO_PARTICLES) -> list[_Tok] | None:
    for key in sorted((k for k in table if word.startswith(k)), key=len, reverse=True):
        rest = word[len(key):]
        if rest in tails or rest.startswith(tuple(t for t in tails if t)):
            return [_Tok(kind, table[key]), *_ko_particle(rest)]
    return None


def _ko_word(words: list[str], i: int) -> tuple[list[_Tok], int]:
    """Tokens of the space-separated Korean word ``words[i]`` (and a following counter)."""
    w = words[i]
    nxt = words[i + 1] if i + 1 < len(words) else ""
    m = _KO_NUM_RE.match(w)
    if m:
        cnt = _ko_counter(m.group(2)) or (_ko_counter(nxt) if not m.group(2) else None)
        if cnt:
            used = 1 if m.group(2) else 2
            return [_Tok("num", int(m.group(1)), cnt[1]), *_ko_particle(cnt[2])], i + used
    if w in lx.KO_NATIVE_NUMBERS:
        cnt = _ko_counter(nxt)
        if cnt:
            return [_Tok("num", lx.KO_NATIVE_NUMBERS[w], cnt[1]), *_ko_particle(cnt[2])], i + 2
    for table, kind, tails in ((lx.KO_RELS, "rel", lx.KO_REL_TAILS),
                               (lx.KO_SCENES, "scene", lx.KO_PARTICLES),
                               (lx.KO_COLORS, "color", ("", "의", "색", "색의", "색이", "이", "은")),
                               (lx.KO_NOUNS, "noun", lx.KO_PARTICLES)):
        toks = _ko_prefix(w, table, kind, tails)
        if toks:
            return toks, i + 1
    for doc in lx.KO_DOC_WORDS:
        if w.startswith(doc):
            kind = {"배경": "bg", "글자": "textword", "텍스트": "textword", "문구": "textword",
                    "제목": "cue"}
            if doc in kind:
                return [_Tok("mark", kind[doc])], i + 1
            return [_Tok("doc", doc)], i + 1
    if w in lx.KO_TEXT_SIZES:
        return [_Tok("mark", lx.KO_TEXT_SIZES[w])], i + 1
    if w.startswith(("이름", "라는")):
        return [_Tok("mark", "name")], i + 1
    return [_Tok("other", w)], i + 1


def _korean_tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for piece in re.split(r"([\ue000]\d+[\ue001]|[,.!?;:，。])", text):
        if not piece or piece.isspace():
            continue
        if piece.startswith(_QMARK):
            out.append(_Tok("text", int(piece[1:-1])))
            continue
        if piece in ",.!?;:，。":
            out.append(_Tok("punct", piece))
            continue
        words = piece.split()
        i = 0
        while i < len(words):
            toks, i = _ko_word(words, i)
            out += toks
    return out


# --- the whole prompt ----------------------------------------------------------------------------
def _mask_quotes(prompt: str, quotes: list[tuple[int, int, str]], ascii_marks: bool) -> str:
    out, last = [], 0
    for k, (a, b, _) in enumerate(quotes):
        out.append(prompt[last:a])
        out.append(f" qtext{k} " if ascii_marks else f"{_QMARK}{k}{_QEND}")
        last = b
    out.append(prompt[last:])
    return "".join(out)


def _mask_measures(text: str) -> str:
    """Blank out ratios, pixel sizes and 2K/4K so their digits are not read as counts."""
    for rx in (_PIXELS_RE, _RATIO_RE, re.compile(r"(?<![a-zA-Z0-9])[124]\s?[kK](?![a-zA-Z0-9])")):
        text = rx.sub(lambda m: " " * len(m.group(0)), text)
    return text


_CJK_FRAME_RE = re.compile(r"(?P<shape>圆圈|圆形|圓圈|圆|圓|丸|円|원|동그라미|徽章|バッジ|배지|뱃지)\s*"
                           r"(?:的|の)?\s*(?:里|裡|中|内|の中|안에|안|속에|속)")
_CJK_FRAME_SHAPES = {"徽章": "badge", "バッジ": "badge", "배지": "badge", "뱃지": "badge"}


def _cjk_frames(bare: str, f: _Facts) -> None:
    """红色圆圈里写着“新品”, 赤い丸の中に「新着」, 빨간 원 안에 "신상": the quote in the same
    clause is set in that circle or badge, in the colour named just before the shape."""
    colors = sorted({**lx.CJK_COLORS, **lx.KO_COLORS}.items(), key=lambda kv: -len(kv[0]))
    for m in _CJK_FRAME_RE.finditer(bare):
        rest = re.split(r"[，。,.;；!！?？]", bare[m.end():], maxsplit=1)[0]
        before = re.split(r"[，。,.;；!！?？、]", bare[:m.start()])[-1]
        q = re.search(r"\ue000(\d+)\ue001", rest) or \
            (re.findall(r"\ue000(\d+)\ue001", before) or [None])[-1]
        k = int(q.group(1)) if hasattr(q, "group") else (int(q) if q is not None else None)
        t = next((t for t in f.texts if t.get("quote") == k), None) if k is not None else None
        if t is None:
            continue
        t["frame"] = _CJK_FRAME_SHAPES.get(m.group("shape"), "circle")
        head = before.rstrip()
        color = next((c for w, c in colors if head.endswith(w)), None)
        if color:
            t["frame_color"] = color


def _bare_scene(low: str, f: _Facts) -> None:
    """Scene words that need no preposition: "underwater", "a snowy street", "at night"."""
    for phrase, scene in lx.SCENE_BARE.items():
        if re.search(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])", low):
            if f.scene is None or scene in _TIME_SCENES:
                f.scene = scene
            return


def _proper_names(text: str) -> set[str]:
    """Capitalised words inside a sentence that the dictionary does not know as common
    words ("a poster of Paris"): names of places and people, not objects to draw."""
    names = set()
    for m in re.finditer(r"(?<=[a-z,;:]\s)([A-Z][a-z]+)\b", text):
        w = m.group(1).lower()
        if not _lemmas(w) and w not in lx.COMMON_NOUNS:
            names.add(w)
    return names


def _background(f: _Facts, transparent: bool) -> Background | None:
    if transparent:
        return Background(kind="transparent", description="transparent background requested")
    colors = list(dict.fromkeys(f.bg_colors))
    if f.gradient and len(colors) >= 2:
        return Background(kind="gradient", colors=tuple(colors[:3]))
    if colors:
        return Background(kind="color", color=colors[0])
    if f.scene:
        return Background(kind="scene", scene=f.scene, color=lx.SCENE_COLORS.get(f.scene))
    return None


def _scene_from(prompt: str, f: _Facts, low: str, quotes: list[str]) -> Scene:
    """Freeze the facts into a Scene (scripts, roles, colours, relations)."""
    aspect, size, low, scale = _aspect_and_size(low)
    hint = _script_hint(low, prompt)
    entities = tuple(Entity(**{k: v for k, v in e.items() if v is not None and v != ()})
                     for e in f.entities)
    texts = tuple(TextItem(content=t["content"], script=detect_script(t["content"], hint),
                           role=t["role"], color=t["color"] or f.text_color,
                           position=t["position"], size=t.get("size"),
                           weight=t.get("weight"), frame=t.get("frame"),
                           frame_color=t.get("frame_color"))
                  for t in f.texts)
    relations = tuple(SceneRelation(subject=s, relation=r, target=t, target2=t2)
                      for s, r, t, t2 in dict.fromkeys(f.relations))
    styles = _styles(low)
    style = Style(text=", ".join(styles), preset=styles[0] if styles else None)
    facts = [f"{e.count} {e.label}" + (f" ({e.color})" if e.color else "")
             + (f" at {e.position}" if e.position else "") for e in entities]
    facts += [f"text {t.content!r} ({t.script}, {t.role})"
              + (f" at {t.position}" if t.position else "") for t in texts]
    facts += [f"{s} {r} {t}" + (f" and {t2}" if t2 else "") for s, r, t, t2 in f.relations]
    return Scene(prompt=prompt, entities=entities, texts=texts, relations=relations,
                 background=_background(f, _transparent(low)), aspect=aspect, size=size,
                 scale=scale, style=style, reasoning="rules: " + "; ".join(facts))


def understand(prompt: str) -> Scene:
    """Read a prompt into Scene facts (no boxes yet).

    Args:
        prompt: the request as typed, any language.
    Returns:
        The Scene: entities with counts/colours/positions, exact texts with their scripts,
        relations, background, aspect/size/scale and style.
    """
    check_prompt(prompt)
    typed, quotes = prompt, find_quotes(prompt)
    prompt = _emoji_as_words(prompt, quotes)
    if prompt != typed:
        quotes = find_quotes(prompt)
    contents = [q[2] for q in quotes]
    bare = _mask_quotes(prompt, quotes, ascii_marks=False)
    outside = re.sub(r"\ue000\d+\ue001", " ", bare)
    counts = _script_counts(outside)
    f = _Facts()
    if counts.get("Hang", 0) > counts.get("Hani", 0) + counts.get("Kana", 0):
        _read_tokens(_korean_tokens(_mask_measures(bare)), contents, f)
        _cjk_frames(bare, f)
    elif counts.get("Hani", 0) + counts.get("Kana", 0) > 0 and \
            counts.get("Hani", 0) + counts.get("Kana", 0) >= counts.get("Latn", 0) / 4:
        _read_tokens(_cjk_tokens(_mask_measures(bare)), contents, f)
        _cjk_frames(bare, f)
    else:
        masked = _mask_quotes(prompt, quotes, ascii_marks=True)
        f.proper = _proper_names(masked)
        _, _, masked, _ = _aspect_and_size(masked.lower())
        _read_english(masked, contents, f)
        _bare_scene(masked, f)
    low = _mask_quotes(prompt, quotes, ascii_marks=True).lower()
    return _scene_from(typed, f, low, contents)


_DETERMINERS = {"a", "an", "the", "this", "that", "my", "your", "his", "her", "our", "their",
                "some", "many", "several", "few", "two", "three"}
_SKIN_TONE = re.compile(r"_(?:medium-)?(?:light|medium|dark)(?:-\w+)?_skin_tone")


def _emoji_as_words(prompt: str, quotes: list[tuple[int, int, str]]) -> str:
    """Emoji outside quotes read as the words they stand for (their CLDR names: 🍕 → pizza,
    🐶 → dog face), so "🍕🍕🍕" draws three pizzas; a run of one emoji is a count. Quoted text
    is left exactly as typed."""
    try:
        import emoji
    except ImportError:                  # a declared dependency; without it emoji stay unread
        return prompt
    found = [m for m in emoji.emoji_list(prompt)
             if not any(s <= m["match_start"] < e for s, e, _ in quotes)]
    out, pos, i = [], 0, 0
    while i < len(found):
        j = i
        while j + 1 < len(found) and found[j + 1]["emoji"] == found[i]["emoji"] \
                and found[j + 1]["match_start"] == found[j]["match_end"]:
            j += 1
        name = emoji.demojize(found[i]["emoji"], delimiters=("", ""))
        name = _SKIN_TONE.sub("", name).replace("_", " ")
        if all(0x1F1E6 <= ord(ch) <= 0x1F1FF for ch in found[i]["emoji"]):
            name += " flag"                   # 🇫🇷 is "France": a flag, not a country
        gap = prompt[pos:found[i]["match_start"]]
        out.append(gap if gap or not out else " and ")
        before = "".join(out).split()
        counted = bool(before) and (before[-1].lower() in _DETERMINERS
                                    or before[-1].lower() in lx.NUMBER_WORDS
                                    or before[-1].isdecimal())
        out.append(f" {j - i + 1} {name} " if j > i else f" {name} " if counted
                   else f" a {name} ")
        pos, i = found[j]["match_end"], j + 1
    return "".join(out) + prompt[pos:] if found else prompt


class RulesPlanner:
    """The embedded default planner: deterministic, no weights, no torch."""

    name = "rules"

    def __init__(self, **_: object):
        pass

    def understand(self, prompt: str) -> Scene:
        return understand(prompt)

    def plan(self, prompt: str, *, size: tuple[int, int] | None = None, seed: int = 0,
             quality: str = "auto", background: str = "auto") -> Plan:
        """Prompt -> Plan.

        Args:
            prompt: the request.
            size: explicit ``(width, height)``; wins over aspect words in the prompt.
            seed: varies the layout (never the facts).
            quality: low | medium | high | auto, recorded in the Plan.
            background: auto | transparent | opaque (opaque overrides a prompt's request).
        Returns:
            A valid Plan.
        """
        from planner.layout import solve

        return solve(understand(prompt), size=size, seed=seed, background=background,
                     quality=quality, planner=self.name)

    def revise(self, plan: Plan, instruction: str) -> Plan:
        """Apply an edit instruction to a Plan (planner.revise owns the logic)."""
        from planner.revise import revise

        return revise(plan, instruction)
