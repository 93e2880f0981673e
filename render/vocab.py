"""Which picture stands for an object label: an icon, an emoji glyph, or (None) a shape.

The vocabulary is the icon sets' names and aliases (render/icons.py), the emoji names and
aliases of the ``emoji`` package (English, and the Chinese/Japanese/Korean names it ships),
render/sprites.py's synonym table, and a small hypernym table for kinds no set draws
("golden retriever" → dog, "smartwatch" → watch).

Matching, longest first: the whole label, then the label with its leading modifiers dropped
one by one, each tried with its plural and singular forms. A modifier that names a thing of its
own stops the dropping ("coffee bean" is not any bean, "mountain lake" not any lake): a
labelled box beats a wrong picture. Framed scene tiles (🏞, 🏙) are never used for objects.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

from render import icons

COLOR_SETS = ("fluent-emoji-flat", "noto", "twemoji")
LINE_SETS = ("tabler", "mdi")

# A more general word that has a picture, for kinds no set draws. Plain data: breeds, young
# animals, device and furniture kinds, everyday synonyms.
HYPERNYMS = {
    # animals
    "puppy": "dog", "retriever": "dog", "labrador": "dog", "poodle": "poodle",
    "terrier": "dog", "beagle": "dog", "bulldog": "dog", "husky": "dog", "corgi": "dog",
    "dachshund": "dog", "chihuahua": "dog", "shepherd": "dog", "spaniel": "dog",
    "pug": "dog", "collie": "dog", "hound": "dog", "shiba": "dog", "doggy": "dog",
    "kitten": "cat", "kitty": "cat", "tabby": "cat", "siamese": "cat", "persian": "cat",
    "calf": "cow", "cattle": "cow", "bull": "ox", "lamb": "sheep", "ram": "sheep",
    "foal": "horse", "pony": "horse", "stallion": "horse", "mare": "horse",
    "piglet": "pig", "hog": "pig", "duckling": "duck", "chick": "baby chick",
    "rooster": "rooster", "cub": "bear", "bunny": "rabbit", "hare": "rabbit",
    "goldfish": "fish", "salmon": "fish", "tuna": "fish", "trout": "fish", "carp": "fish",
    "koi": "fish", "sparrow": "bird", "robin": "bird", "pigeon": "dove",
    "crow": "black bird", "raven": "black bird", "seagull": "bird", "gull": "bird",
    "hummingbird": "bird", "magpie": "bird", "eagle": "eagle", "hawk": "eagle",
    "falcon": "eagle", "tortoise": "turtle", "toad": "frog", "lizard": "lizard",
    "gecko": "lizard", "iguana": "lizard", "alligator": "crocodile", "moth": "butterfly",
    "caterpillar": "bug", "worm": "worm", "insect": "bug", "beetle": "beetle",
    "stag": "deer", "reindeer": "deer", "moose": "deer", "elk": "deer", "ape": "gorilla",
    "chimpanzee": "monkey", "pet": "dog", "jellyfish": "jellyfish",
    # food
    "baguette": "baguette bread", "loaf": "bread", "toast": "bread", "bun": "bread",
    "roll": "bread", "biscuit": "cookie", "cupcake": "cupcake", "muffin": "cupcake",
    "tart": "pie", "brownie": "chocolate bar", "candy bar": "chocolate bar",
    "espresso": "hot beverage", "latte": "hot beverage", "cappuccino": "hot beverage",
    "coffee": "hot beverage", "soda": "cup with straw", "cola": "cup with straw",
    "lemonade": "tropical drink", "smoothie": "cup with straw", "cocktail": "cocktail glass",
    "martini": "cocktail glass", "champagne": "bottle with popping cork", "ale": "beer mug",
    "lager": "beer mug", "beer": "beer mug", "whisky": "tumbler glass",
    "whiskey": "tumbler glass", "steak": "cut of meat", "meat": "meat on bone",
    "ham": "cut of meat", "bacon": "bacon", "sausage": "hot dog", "chip": "french fries",
    "fry": "french fries", "noodle": "steaming bowl", "spaghetti": "spaghetti",
    "pasta": "spaghetti", "dumpling": "dumpling", "tangerine": "tangerine",
    "mandarin": "tangerine", "clementine": "tangerine", "plum": "cherries",
    "berry": "strawberry", "raspberry": "strawberry", "cantaloupe": "melon",
    "squash": "pumpkin", "zucchini": "cucumber", "chili": "hot pepper",
    "chilli": "hot pepper", "capsicum": "bell pepper", "scallion": "onion",
    "leek": "onion", "yam": "roasted sweet potato", "walnut": "chestnut",
    "almond": "peanuts", "hazelnut": "chestnut", "acorn": "chestnut", "granola": "bowl with spoon",
    "cereal": "bowl with spoon", "porridge": "bowl with spoon", "yogurt": "bowl with spoon",
    "omelette": "cooking", "omelet": "cooking", "sundae": "ice cream",
    "gelato": "ice cream", "popsicle": "ice cream", "dessert": "shortcake",
    "pudding": "custard", "jam": "honey pot", "honey": "honey pot", "syrup": "honey pot",
    "kiwi": "kiwi fruit", "lettuce": "leafy green", "cabbage": "leafy green",
    "spinach": "leafy green", "chef": "cook", "clown": "clown face", "trash can": "wastebasket",
    "garbage can": "wastebasket", "coffee machine": "coffee maker",
    "espresso machine": "coffee maker", "sweet": "candy", "sweets": "candy", "gum": "candy", "lolly": "lollipop",
    # things
    "smartwatch": "watch", "wristwatch": "watch", "stopwatch": "stopwatch",
    "cellphone": "mobile phone", "iphone": "mobile phone", "handset": "telephone",
    "notebook computer": "laptop", "pc": "desktop computer", "desktop": "desktop computer",
    "printer": "printer", "speaker": "speaker high volume", "loudspeaker": "loudspeaker",
    "earbud": "headphone", "earphone": "headphone", "headset": "headphone",
    "blackboard": "chalkboard", "whiteboard": "chalkboard", "easel": "chalkboard",
    "armchair": "chair", "stool": "chair", "seat": "chair", "recliner": "couch and lamp",
    "sofa": "couch and lamp", "couch": "couch and lamp", "nightstand": "table",
    "desk": "table", "workbench": "table", "counter": "table", "tabletop": "table",
        "bookcase": "bookshelf", "shelf": "bookshelf", "bookshelf": "books",
    "mattress": "bed", "cot": "bed", "crib": "bed", "hammock": "bed", "bunk": "bed",
    "rug": "carpet", "carpet": "carpet", "tote": "handbag", "purse": "purse",
    "handbag": "handbag", "satchel": "briefcase", "rucksack": "backpack",
    "knapsack": "backpack", "duffel": "luggage", "carton": "package",
    "crate": "package", "parcel": "package", "jar": "jar", "jug": "jug", "pitcher": "jug",
    "flask": "flask", "thermos": "flask", "tumbler": "tumbler glass", "goblet": "wine glass",
    "chalice": "wine glass", "saucepan": "cooking pot", "skillet": "frying pan",
    "wok": "frying pan", "ladle": "spoon", "spatula": "spoon", "whisk": "spoon",
    "chopstick": "chopsticks", "teacup": "teacup without handle",
    "beaker": "test tube", "bulb": "light bulb", "lightbulb": "light bulb",
    "flashlight": "flashlight", "torch": "flashlight", "lamp": "light bulb",
    "lampshade": "floor lamp", "chandelier": "light bulb", "sconce": "light bulb",
    "cap": "billed cap", "beanie": "knit cap", "helmet": "military helmet",
    "beret": "hat", "fedora": "hat", "bonnet": "hat", "hoodie": "coat",
    "sweater": "coat", "jumper": "coat", "cardigan": "coat", "blazer": "coat",
    "parka": "coat", "raincoat": "coat", "suit": "necktie", "blouse": "t-shirt",
    "shirt": "t-shirt", "tee": "t-shirt", "tank top": "t-shirt", "skirt": "dress",
    "gown": "dress", "robe": "kimono", "slipper": "flat shoe", "sandal": "sandal",
    "heel": "high-heeled shoe", "trainer": "running shoe", "sneaker": "running shoe",
    "loafer": "flat shoe", "mitten": "gloves", "glove": "gloves",     "brooch": "gem stone",
    "jewel": "gem stone", "jewelry": "gem stone", "gemstone": "gem stone",
    "automobile": "automobile", "sedan": "automobile", "coupe": "automobile",
    "suv": "sport utility vehicle", "jeep": "sport utility vehicle", "lorry": "truck",
    "van": "minibus", "minivan": "minibus", "cab": "taxi", "limo": "automobile",
    "motorbike": "motorcycle", "moped": "motor scooter", "jet": "airplane",
    "aircraft": "airplane", "airliner": "airplane", "glider": "airplane",
    "yacht": "sailboat", "canoe": "canoe", "kayak": "canoe", "rowboat": "canoe",
    "ferry": "ferry", "steamer": "ship", "cruise": "passenger ship", "liner": "ship",
    "spacecraft": "rocket", "spaceship": "rocket", "shuttle": "rocket",
    "subway": "metro", "underground": "metro", "locomotive": "locomotive", "tram": "tram",
    "trolley": "shopping cart", "wagon": "shopping cart", "cart": "shopping cart",
    "skate": "ice skate",
    "tablet": "mobile phone", "ipad": "mobile phone", "e-reader": "mobile phone",
    "tv": "television", "monitor": "desktop computer", "screen": "desktop computer",
    "router": "satellite antenna", "antenna": "satellite antenna", "dish": "plate",
    "saucer": "plate", "platter": "plate", "tray": "plate", "container": "package",
    "chest": "package", "case": "briefcase", "envelope": "envelope",
    "postcard": "envelope", "parchment": "scroll", "document": "page facing up",
    "paper": "page facing up", "sheet": "page facing up", "page": "page facing up",
    "form": "clipboard", "magazine": "newspaper", "journal": "notebook",
    "diary": "notebook", "novel": "closed book", "textbook": "closed book",
    "dictionary": "closed book", "album": "notebook", "sketchbook": "notebook",
    "marker": "pen", "crayon": "crayon", "quill": "pen", "chalk": "crayon",
    "eraser": "pencil", "clip": "paperclip", "tape": "roll of paper",
    "thread": "spool of thread", "yarn": "yarn", "wool": "yarn",
    "fabric": "yarn",     "figurine": "teddy bear", "plush": "teddy bear", "stuffed animal": "teddy bear",
    "doll": "teddy bear", "marble": "crystal ball", "sphere": "crystal ball",
    "orb": "crystal ball", "block": "brick",
    "boulder": "rock", "pebble": "rock", "stone": "rock", "cliff": "rock",
    "log": "wood", "timber": "wood", "plank": "wood", "stick": "wood", "branch": "wood",
    "twig": "wood", "stump": "wood", "firewood": "wood",
    "oak": "deciduous tree", "maple": "maple leaf", "birch": "deciduous tree",
    "willow": "deciduous tree", "fir": "evergreen tree", "spruce": "evergreen tree",
    "pine": "evergreen tree", "cedar": "evergreen tree", "shrub": "potted plant",
    "houseplant": "potted plant", "fern": "herb", "moss": "herb", "weed": "herb",
    "clover": "four leaf clover", "ivy": "herb", "vine": "herb", "reed": "sheaf of rice",
    "wheat": "sheaf of rice", "grain": "sheaf of rice", "bouquet": "bouquet",
    "petal": "cherry blossom", "bloom": "blossom", "orchid": "hibiscus", "lily": "tulip",
    "peony": "rose", "carnation": "rose", "poppy": "rose", "daffodil": "blossom",
    "lavender": "blossom", "dandelion": "blossom", "marigold": "blossom",
    "iris": "tulip", "magnolia": "blossom", "jasmine": "white flower",
    "hill": "mountain", "peak": "mountain", "summit": "mountain", "dune": "desert",
    "pond": "droplet", "puddle": "droplet", "raindrop": "droplet", "drop": "droplet",
    "teardrop": "droplet", "icicle": "ice", "iceberg": "ice", "glacier": "ice",
    "blaze": "fire", "bonfire": "fire", "ember": "fire", "spark": "sparkles",
    "glitter": "sparkles", "twinkle": "sparkles", "constellation": "star",
    "asteroid": "rock", "meteor": "comet", "satellite": "satellite", "ufo": "flying saucer",
    "saucer-shaped": "flying saucer", "alien": "alien", "monster": "alien monster",
    "spirit": "ghost", "phantom": "ghost", "zombie": "zombie", "vampire": "vampire",
    "fairy": "fairy", "elf": "elf", "genie": "genie", "mermaid": "merperson",
    "superhero": "superhero", "villain": "supervillain", "princess": "princess",
    "prince": "prince", "king": "crown", "queen": "crown", "emperor": "crown",
    "knight": "shield", "warrior": "crossed swords", "soldier": "military helmet",
    "sword": "dagger", "blade": "dagger", "spear": "dagger", "arrowhead": "bow and arrow",
    "gun": "water pistol", "pistol": "water pistol", "rifle": "water pistol",
    "cannon": "bomb", "grenade": "bomb", "explosive": "bomb", "firework": "fireworks",
    "cracker": "firecracker", "confetti": "confetti ball", "streamer": "party popper",
    "ornament": "christmas tree", "wreath": "christmas tree", "stocking": "socks",
    "sleigh": "sled", "toboggan": "sled", "ski": "skis", "snowboard": "skis",
    "paddle": "ping pong", "racquet": "tennis", "racket": "tennis", "bat": "bat",
    "puck": "ice hockey", "dumbbell": "flexed biceps", "weight": "flexed biceps",
    "barbell": "flexed biceps", "frisbee": "flying disc",
    "boomerang": "boomerang", "yo-yo": "yo-yo", "kite": "kite", "jigsaw": "puzzle piece",
    "puzzle": "puzzle piece", "die": "game die", "dice": "game die",     "token": "coin", "medallion": "sports medal", "badge": "sports medal",
    "award": "trophy", "prize": "trophy", "cup trophy": "trophy", "ribbon": "ribbon",
    "bow": "ribbon", "banner": "triangular flag", "pennant": "triangular flag",
    "signpost": "round pushpin", "marker pin": "round pushpin", "thumbtack": "pushpin",
    "tack": "pushpin", "screw": "nut and bolt", "bolt": "nut and bolt",
    "drill": "screwdriver", "toolbox": "toolbox", "tool": "hammer and wrench",
    "spanner": "wrench", "pliers": "wrench", "clamp": "clamp", "chain": "chains",
    "rope": "knot", "cord": "knot", "cable": "electric plug", "plug": "electric plug",
    "socket": "electric plug", "charger": "electric plug", "battery": "battery",
        "faucet": "potable water", "tap": "potable water",
    "shower": "shower", "bath": "bathtub", "tub": "bathtub", "basin": "bathtub",
    "toilet": "toilet", "mop": "broom", "brush": "broom",
    "vacuum": "broom", "dustpan": "broom", "bin": "wastebasket", "trashcan": "wastebasket",
    "garbage": "wastebasket", "trash": "wastebasket", "recycling": "recycling symbol",
    "soap": "soap", "shampoo": "lotion bottle", "lotion": "lotion bottle",
    "perfume": "lotion bottle", "cream": "lotion bottle", "lipstick": "lipstick",
    "makeup": "lipstick", "comb": "comb", "hairbrush": "comb", "razor": "razor",
    "toothbrush": "toothbrush", "toothpaste": "toothbrush", "mirror": "mirror",
    "curtain": "window", "blind": "window", "shutter": "window", "doorway": "door",
    "gate": "door", "entrance": "door", "staircase": "ladder", "stair": "ladder",
    "step": "ladder", "elevator": "elevator",     "barrier": "construction", "cone": "construction", "sign": "warning",
    "streetlight": "light bulb", "lamppost": "light bulb", "hydrant": "fire extinguisher",
    "extinguisher": "fire extinguisher", "mailbox": "closed mailbox with raised flag",
    "postbox": "postbox", "bench": "chair", "fountain": "fountain",     "statue": "moai", "sculpture": "moai", "monument": "classical building",
    "museum": "classical building", "palace": "castle", "fort": "castle",
    "fortress": "castle", "cathedral": "church", "chapel": "church", "mosque": "mosque",
    "synagogue": "synagogue", "shrine": "shinto shrine", "skyscraper": "office building",
    "tower": "tokyo tower", "apartment": "office building", "flat": "office building",
    "hotel": "hotel", "hospital": "hospital", "school": "school", "bank": "bank",
    "store": "convenience store", "shop": "convenience store", "supermarket": "convenience store",
    "market": "convenience store", "mall": "department store", "factory": "factory",
    "warehouse": "factory", "garage": "house", "shed": "hut", "cabin": "hut",
    "cottage": "house with garden", "villa": "house with garden", "mansion": "house with garden",
    "igloo": "snowman", "tent": "tent", "teepee": "tent", "stadium": "stadium",
    "arena": "stadium", "theater": "performing arts", "theatre": "performing arts",
    "cinema": "clapper board", "movie": "clapper board", "film": "film frames",
    "camera": "camera", "camcorder": "video camera", "projector": "film projector",
    "radio": "radio", "stereo": "radio", "jukebox": "radio", "vinyl": "optical disk",
    "record": "optical disk", "cd": "optical disk", "dvd": "dvd", "cassette": "videocassette",
    "joystick": "joystick", "controller": "video game", "console": "video game",
    "gamepad": "video game", "keyboard": "keyboard", "mouse pad": "computer mouse",
    "chip": "french fries", "robot": "robot",
    "drone": "helicopter", "instrument": "musical note", "violin": "violin",
    "cello": "violin", "fiddle": "violin", "harp": "musical note", "flute": "flute",
    "clarinet": "flute", "saxophone": "saxophone", "trumpet": "trumpet", "horn": "trumpet",
    "tuba": "trumpet", "trombone": "trumpet", "banjo": "banjo", "ukulele": "guitar",
    "bass": "guitar", "keyboard instrument": "musical keyboard", "organ": "musical keyboard",
    "synthesizer": "musical keyboard", "xylophone": "musical keyboard",
    "tambourine": "drum", "cymbal": "drum", "maraca": "maracas", "accordion": "accordion",
    "harmonica": "flute", "whistle": "whistle", "megaphone": "megaphone", "bullhorn": "megaphone",
    "telescope": "telescope", "binocular": "binoculars", "lens": "magnifying glass tilted left",
    "magnifier": "magnifying glass tilted left", "thermometer": "thermometer",
    "stethoscope": "stethoscope", "syringe": "syringe", "pill": "pill", "medicine": "pill",
    "capsule": "pill", "tablet medicine": "pill", "bandage": "adhesive bandage",
    "crutch": "crutch", "wheelchair": "manual wheelchair", "cane": "probing cane",
    "compass": "compass", "hourglass": "hourglass done", "timer": "timer clock",
    "sundial": "mantelpiece clock", "abacus": "abacus", "calculator": "abacus",
    "scale": "balance scale", "ruler": "straight ruler", "protractor": "triangular ruler",
    "magnet": "magnet", "atom": "atom symbol", "molecule": "dna", "gene": "dna",
    "microbe": "microbe", "germ": "microbe", "virus": "microbe", "bacteria": "microbe",
    "cell": "microbe", "brain": "brain", "heart organ": "anatomical heart",
    "bone": "bone", "skeleton": "skull", "tooth": "tooth", "lung": "lungs",
    "globe": "globe showing europe-africa", "world": "globe showing europe-africa",
    "earth": "globe showing europe-africa", "planet": "ringed planet",
    "saturn": "ringed planet", "mars": "ringed planet", "galaxy": "milky way",
    "universe": "milky way", "space": "milky way", "moonlight": "crescent moon",
    "sunshine": "sun", "sunlight": "sun", "cloudy": "cloud", "storm": "cloud with lightning",
    "thunder": "cloud with lightning", "thunderstorm": "cloud with lightning and rain",
    "tornado": "tornado", "hurricane": "cyclone", "typhoon": "cyclone", "wind": "wind face",
    "breeze": "wind face", "snow": "snowflake", "hail": "snowflake", "frost": "snowflake",
    "flood": "water wave", "tsunami": "water wave", "tide": "water wave", "surf": "water wave",
    "seashell": "spiral shell", "shell": "spiral shell", "coral": "coral", "seaweed": "herb",
    "kelp": "herb", "starfish": "star", "sea star": "star", "clam": "oyster",
    "mussel": "oyster", "scallop": "oyster", "lobster": "lobster", "prawn": "shrimp",
    "squid": "squid", "seal": "seal", "walrus": "seal", "sea lion": "seal",
    "orca": "whale", "narwhal": "whale", "manatee": "seal", "eel": "snake",
    "pearl": "oyster", "treasure": "gem stone", "gold": "coin", "bullion": "coin",
    "cash": "dollar banknote", "banknote": "dollar banknote", "bill": "dollar banknote",
    "dollar": "dollar banknote", "currency": "money bag", "savings": "money bag",
    "piggybank": "money bag", "credit card": "credit card", "receipt": "receipt",
    "invoice": "receipt", "ticket": "admission tickets", "coupon": "ticket",
    "id": "identification card", "license": "identification card",
    "calendar": "spiral calendar", "schedule": "spiral calendar", "planner": "spiral calendar",
    "clipboard": "clipboard", "folder": "file folder", "file": "file folder",
    "binder": "file folder", "archive": "card file box",     "locker": "file cabinet", "safe": "locked",
    "padlock": "locked", "lock": "locked", "keyhole": "key", "doorknob": "door",
    "bell": "bell", "doorbell": "bell", "alarm": "alarm clock", "siren": "police car light",
    "light": "light bulb", "headlight": "light bulb", "laser": "high voltage",
    "candlestick": "candle", "lantern": "red paper lantern",     "incense": "candle", "cigarette": "cigarette",
    "vase": "amphora", "urn": "amphora",
    "pot": "cooking pot", "planter": "potted plant", "flowerpot": "potted plant",
    "watering can": "potable water", "bucket": "bucket", "barrel": "bucket",
    "keg": "bucket", "basket": "basket", "hamper": "basket", "bag": "handbag",
    "sack": "handbag", "pouch": "purse", "wallet": "purse", "backpack": "backpack",
    "luggage": "luggage", "suitcase": "luggage", "briefcase": "briefcase",
}
# Modifiers that say what a thing is made of, its age or that it is a toy: the head keeps its
# picture ("wooden chair", "baby elephant", "toy car").
MODIFIER_OK = {
    "wooden", "wood", "glass", "paper", "plastic", "metal", "steel", "iron", "stone",
    "gold", "golden", "silver", "leather", "ceramic", "clay", "porcelain", "cotton", "wool",
    "woolen", "silk", "rubber", "crystal", "marble", "brass", "copper", "bronze", "toy",
    "baby", "mini", "giant", "old", "new", "vintage", "antique", "modern", "cartoon",
    "ice", "snow", "chocolate", "fruit", "cardboard", "concrete", "brick", "bamboo",
    "fluffy", "furry", "shiny", "tall", "short", "round", "square", "empty", "full", "art", "cut",
}
_STOP = {"a", "an", "the", "of", "with", "and", "in", "on", "small", "big", "large", "tiny",
         "little", "single", "pair", "cute", "piece", "pieces", "some", "one", "very", "huge"}
# Words of mono icon names that say "a variant of" rather than "a kind of".
_VARIANT_WORDS = {"outline", "variant", "filled", "furniture", "box", "alt", "solid"}
# MDI categories that draw physical things (others are UI symbols: a "table" there is a grid).
MDI_THINGS = {
    "Agriculture", "Animal", "Automotive", "Clothing", "Device / Tech", "Drawing / Art",
    "Food / Drink", "Gaming / RPG", "Hardware / Tools", "Health / Beauty", "Holiday",
    "Home Automation", "Medical / Hospital", "Music", "Nature", "People / Family",
    "Photography", "Places", "Science", "Shopping", "Sport", "Transportation + Flying",
    "Transportation + Other", "Transportation + Road", "Transportation + Water", "Weather",
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Pick:
    """What an object label is drawn as.

    source: ``icon`` (a vector icon: ``icon_set``/``name``), ``emoji`` (a glyph of the
    colour-emoji font), or ``shape`` (a labelled shape). ``matched`` is the vocabulary
    phrase that matched ("" for a shape).
    """

    source: str
    icon_set: str | None = None
    name: str | None = None
    glyph: str | None = None
    matched: str = ""

    def record(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9\-]+", text.lower())


def _lemma(word: str) -> str:
    from render.sprites import _lemma as lemma

    return lemma(word)


def _forms(word: str) -> list[str]:
    """The word, its noun lemma and, for plural-only nouns, the singular ("glasses" →
    glass): "cocktail glasses" then finds "cocktail glass"."""
    out = [word, _lemma(word)]
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        out.append(word[:-1])
    return list(dict.fromkeys(out))


@lru_cache(maxsize=1)
def _emoji_names() -> dict[str, str]:
    """Phrase → glyph: the synonym table, then the emoji package's names and aliases."""
    from render.sprites import SYNONYMS, _emoji_index

    out = dict(_emoji_index())
    out.update(SYNONYMS)
    return out


@lru_cache(maxsize=1)
def _cjk_names() -> dict[str, str]:
    """Chinese, Japanese and Korean emoji names (the emoji package's translations) → glyph."""
    import emoji
    from emoji.unicode_codes import load_from_json

    out: dict[str, str] = {}
    for lang in ("zh", "ja", "ko"):
        try:
            load_from_json(lang)
        except (OSError, ValueError, KeyError):
            continue
        for glyph, data in emoji.EMOJI_DATA.items():
            if data.get("status") != emoji.STATUS["fully_qualified"] or lang not in data:
                continue
            if any(0x1F3FB <= ord(c) <= 0x1F3FF for c in glyph):
                continue
            name = data[lang].strip(":").replace("_", " ")
            out.setdefault(name, glyph)
    return out


@lru_cache(maxsize=8)
def _icon_names(prefix: str) -> dict[str, str]:
    """Phrase → icon name of a set. Mono sets: MDI keeps only categories of physical things;
    a trailing variant word is dropped as a second key ("table furniture" → table)."""
    out: dict[str, str] = {}
    cats = icons.categories(prefix) if prefix == "mdi" else {}
    for name in icons.names(prefix):
        if prefix == "mdi" and (cats.get(name) or cats.get(icons.parent(prefix, name))) \
                not in MDI_THINGS:
            continue
        if prefix == "tabler" and name.startswith(("brand-", "letter-", "number-")):
            continue
        if re.search(r"-(off|plus|minus|check|x|cancel|up|down|question|search|share|"
                     r"bolt|cog|code|dollar|heart|pin|star|pause|exclamation|\d)$", name) \
                and prefix in LINE_SETS:
            continue
        words = name.split("-")
        out.setdefault(" ".join(words), name)
        if prefix in LINE_SETS:
            core = [w for w in words if w not in _VARIANT_WORDS]
            if core and core != words:
                out.setdefault(" ".join(core), name)
            if words[0] == "device" and len(words) > 1:
                out.setdefault(" ".join(words[1:]), name)
    return out


def _color_sets(prefer: str | None) -> list[str]:
    sets = [s for s in COLOR_SETS if icons.available(s)]
    if prefer in sets:
        sets.remove(prefer)
        sets.insert(0, prefer)
    return sets


def _from_glyph(glyph: str, phrase: str, sets: list[str]) -> Pick | None:
    """The first set's vector drawing of an emoji that is an object, not a scene tile; the
    font glyph when no set is installed."""
    if not sets:
        from render.sprites import _drawable

        return Pick("emoji", glyph=glyph, matched=phrase) if _drawable(glyph) else None
    for prefix in sets:
        name = icons.name_for_glyph(prefix, glyph)
        if name and not icons.is_picture_tile(prefix, name):
            return Pick("icon", prefix, name, glyph, phrase)
    return None


def _lookup(phrase: str, sets: list[str]) -> Pick | None:
    """One phrase against the vocabulary: emoji names/synonyms, colour-set icon names,
    then physical-thing names of the line sets."""
    glyph = _emoji_names().get(phrase) or (_cjk_names().get(phrase) if _CJK.search(phrase)
                                           else None)
    if glyph:
        got = _from_glyph(glyph, phrase, sets)
        if got:
            return got
    for prefix in sets:
        name = _icon_names(prefix).get(phrase)
        if name and not icons.is_picture_tile(prefix, name):
            return Pick("icon", prefix, name, None, phrase)
    for prefix in ("mdi", "tabler"):
        if icons.available(prefix):
            name = _icon_names(prefix).get(phrase)
            if name:
                return Pick("icon", prefix, name, None, phrase)
    if icons.available("mdi"):
        name = _mdi_uncategorised().get(phrase)
        if name:
            return Pick("icon", "mdi", name, None, phrase)
    return None


@lru_cache(maxsize=1)
def _mdi_uncategorised() -> dict[str, str]:
    """MDI icons its metadata puts in no category (newer ones: oven, sink, lake, passport),
    matched only by their exact name: an uncategorised name is trusted as the thing it
    says, never widened by dropping variant words."""
    cats = icons.categories("mdi")
    return {n.replace("-", " "): n for n in icons.names("mdi")
            if n not in cats and icons.parent("mdi", n) not in cats and not re.search(r"-(off|outline|plus|minus|check|remove|alert|"
                                               r"variant|box|circle|multiple|\d)$", n)}


def _phrases(words: list[str]) -> list[str]:
    """The phrase of ``words`` with each word's forms, head word varied last."""
    if not words:
        return []
    heads = _forms(words[-1])
    mods = [_lemma(w) if w.endswith("s") and not w.endswith("ss") else w for w in words[:-1]]
    out = [" ".join(words)] + [" ".join(mods + [h]) for h in heads]
    return list(dict.fromkeys(out))


def _has_picture(word: str, sets: list[str]) -> bool:
    return any(_lookup(p, sets) for p in _phrases([word]))


@lru_cache(maxsize=4096)
def pick(label: str, prefer: str | None = None) -> Pick:
    """The picture for an object label.

    Args:
        label: the Plan's object label ("golden retriever puppy", "cocktail glasses").
        prefer: a colour set to try first (a style's look), e.g. ``noto``.
    Returns:
        A Pick; ``source == "shape"`` when nothing fits (a labelled shape is drawn).
    """
    from planner.lexicon import COMPOUNDS, CONTAINERS
    from render.color import parse_color

    sets = _color_sets(prefer)
    if _CJK.search(label):
        got = _lookup(label.strip(), sets)
        return got or Pick("shape")
    raw = _words(label)
    if "of" in raw[1:-1]:  # "bowl of noodles": the whole phrase, then what is in it, then it
        got = _of_phrase(raw, sets, prefer)
        if got:
            return got
        raw = raw[:raw.index("of")]
    words = [w for w in raw if w not in _STOP]
    plain = [w for w in words if parse_color(w) is None] or words
    if not plain:
        return Pick("shape")
    compound = " ".join(plain[:-1] + [_lemma(plain[-1])]) in COMPOUNDS
    for k in range(len(plain), 0, -1):
        tail = plain[-k:]
        for phrase in _phrases(tail):
            got = _lookup(phrase, sets)
            if got:
                return got
        if k == 1:
            break
        # Drop the leading modifier only when it does not name a thing of its own.
        mod = tail[0]
        if mod not in MODIFIER_OK and not compound and _lemma(tail[-1]) not in CONTAINERS \
                and _has_picture(mod, sets):
            return Pick("shape")
    full = " ".join(plain[:-1] + [_lemma(plain[-1])])
    head = full if full in HYPERNYMS else _lemma(plain[-1])
    seen = {head}
    while head in HYPERNYMS:
        head = HYPERNYMS[head]
        for phrase in _phrases(head.split()):
            got = _lookup(phrase, sets)
            if got:
                return Pick(got.source, got.icon_set, got.name, got.glyph,
                            f"{plain[-1]} → {phrase}")
        if head in seen:
            break
        seen.add(head)
    from render.sprites import _by_word

    glyph = _by_word(_lemma(plain[-1]))
    if glyph and not _names_other_thing(glyph, _lemma(plain[-1]), sets):
        got = _from_glyph(glyph, plain[-1], sets)
        if got:
            return got
    return Pick("shape")


def _of_phrase(raw: list[str], sets: list[str], prefer: str | None) -> Pick | None:
    """"X of Y": the whole phrase ("glass of milk"), else what is in it ("cup of coffee")."""
    whole = _lookup(" ".join(w for w in raw if w not in ("a", "an", "the")), sets)
    if whole:
        return whole
    inner = pick(" ".join(raw[raw.index("of") + 1:]), prefer)
    return inner if inner.source != "shape" else None


def _names_other_thing(glyph: str, head: str, sets: list[str]) -> bool:
    """True when the emoji found by its head noun alone is a different kind of thing: a word
    before the head names a thing of its own ("fax machine" for machine), unlike "hot
    pepper" or "Tokyo tower"."""
    from render.sprites import _emoji_index

    names = [n for n, g in _emoji_index().items() if g == glyph and len(n.split()) > 1
             and _lemma(n.split()[-1]) == head]
    for n in names:
        if any(w not in MODIFIER_OK and _lookup(w, sets) for w in n.split()[:-1]):
            return True
    return False


def line_icon(p: Pick, label: str) -> tuple[str, str] | None:
    """A mono (line) icon for the same thing, for line-art looks: the line sets' name for
    the matched phrase or the label's head noun."""
    keys = [p.matched.split(" → ")[-1]] if p.matched else []
    if p.name:
        keys.append(p.name.replace("-", " "))
    words = [w for w in _words(label) if w not in _STOP]
    if words:
        keys += _phrases(words[-1:])
    for prefix in LINE_SETS:
        if not icons.available(prefix):
            continue
        table = _icon_names(prefix)
        for k in keys:
            name = table.get(k) or table.get(f"{k} outline")
            if name:
                outline = f"{name}-outline"
                return prefix, outline if icons.resolve(prefix, outline) else name
    return None
