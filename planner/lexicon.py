"""Word tables for the rules planner: numbers, counters, colours, nouns, image types, scenes.

Plain data, no logic beyond small lookups. English nouns are lemmatised elsewhere (lemminflect);
the tables here hold what a lemmatiser cannot know: plural-only nouns, compound labels, what is
the image itself (a poster is the canvas, not an object on it), and the common nouns of
Chinese, Japanese and Korean prompts with their English labels.
"""

from __future__ import annotations

# --- English counts ---------------------------------------------------------------------------
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "a": 1, "an": 1, "single": 1, "lone": 1, "solitary": 1, "dozen": 12,
    "both": 2, "twin": 2, "twins": 2, "triple": 3, "trio": 3, "quartet": 4, "thirty": 30,
    "forty": 40, "fifty": 50,
}
# "twenty-one" .. "fifty-nine"
for _tens, _tv in (("twenty", 20), ("thirty", 30), ("forty", 40), ("fifty", 50)):
    for _unit, _uv in (("one", 1), ("two", 2), ("three", 3), ("four", 4), ("five", 5),
                       ("six", 6), ("seven", 7), ("eight", 8), ("nine", 9)):
        NUMBER_WORDS[f"{_tens}-{_unit}"] = _tv + _uv
# "a few"/"several"/"some" are vague; a small plural reads as intended.
VAGUE_COUNTS = {"few": 3, "several": 3, "some": 3, "many": 5, "multiple": 3, "lots": 5}

# Nouns that are grammatically plural but name one object: "a pair of headphones" is one.
PLURAL_ONLY = {
    "sunglasses", "headphones", "earphones", "scissors", "glasses", "eyeglasses", "spectacles",
    "goggles", "binoculars", "pants", "trousers", "jeans", "shorts", "leggings", "tights",
    "pliers", "tongs", "tweezers", "pajamas", "pyjamas", "overalls", "earmuffs", "clippers",
    "shears", "chopsticks",
}
# "a pair of X" for a countable X draws two of them (two shoes, two socks); plural-only X
# (headphones) is one object; chopsticks are conventionally drawn as one pair.
PAIR_ONE_ITEM = PLURAL_ONLY

# Arrangements: "a row of five umbrellas" is five umbrellas in a row.
ARRANGEMENTS = {"row", "line", "grid", "circle", "ring", "column", "group", "cluster", "set",
                "collection", "series", "array", "bunch", "pile", "stack", "heap", "handful"}
# Measure words: "three pieces of sushi" counts the food; "two cups of coffee" counts cups.
PORTIONS = {"piece", "slice", "scoop", "chunk", "wedge", "strip", "cube", "drop", "lump",
            "serving", "portion", "stick", "sheet", "loaf", "bar", "block"}
CONTAINERS = {"cup", "bowl", "glass", "plate", "mug", "basket", "box", "jar", "bottle", "bag",
              "bucket", "can", "pot", "vase", "tray", "crate", "pitcher", "carton", "sack",
              "bunch", "bouquet", "stack", "pile", "pack", "packet", "barrel",
              "bundle", "handful", "teapot", "kettle", "dish", "pan", "tin", "ball", "roll",
              "spool", "skein", "heap", "tub", "carafe", "jug", "flask", "pouch", "shelf"}

# --- what the image itself is ---------------------------------------------------------------
# Document-like: modifiers before these name the topic ("coffee shop poster"), not objects.
DOC_WORDS = {
    "poster", "banner", "thumbnail", "card", "sign", "signboard", "signage", "header", "slide",
    "mockup", "mock-up", "cover", "menu", "flyer", "flier", "leaflet", "brochure", "logo",
    "invitation", "infographic", "diagram", "chart", "list", "page", "website", "webpage",
    "screen", "screenshot", "ui", "interface", "app", "dashboard", "label", "ad", "advert",
    "advertisement", "billboard", "postcard", "certificate", "ticket", "coupon", "meme",
    "wallpaper", "background", "story", "post", "tweet", "template", "layout", "design",
    "graphic", "typography", "lettering", "quote", "announcement", "notice", "placard",
    "storefront", "signpost", "plaque", "bookmark", "calendar-page", "newsletter", "hero",
    "presentation", "deck", "frame", "panel", "composition", "scene", "view", "shot",
    "format", "version", "ratio", "resolution", "size", "canvas", "artwork", "wordmark",
    "emblem", "badge", "cartoon", "comic", "storyboard", "packaging", "package-design",
}
# Picture-like: the modifiers are the subject ("a rocket icon" is a rocket).
PICTURE_WORDS = {
    "photo", "photograph", "picture", "image", "illustration", "drawing", "painting",
    "sketch", "render", "rendering", "icon", "sticker", "clipart", "clip-art", "portrait",
    "snapshot", "pic", "art", "artwork", "doodle", "emoji", "vector", "silhouette",
    "watercolor", "watercolour", "print", "shot", "closeup", "close-up", "mascot",
    "avatar", "figurine", "cutout", "cut-out",
}
# Modifiers that qualify an image word, never objects: "product shot", "stock photo".
IMAGE_MODIFIERS = {
    "product", "stock", "studio", "travel", "promo", "promotional", "marketing", "sale",
    "event", "concert", "movie", "film", "album", "book", "magazine", "music", "birthday",
    "wedding", "holiday", "christmas", "halloween", "thank-you", "greeting", "business",
    "email", "e-mail", "web", "website", "youtube", "instagram", "facebook", "twitter",
    "linkedin", "tiktok", "pinterest", "phone", "mobile", "desktop", "settings", "login",
    "landing", "restaurant", "shop", "store", "cafe", "café", "bakery", "bar", "price",
    "road", "street", "traffic", "warning", "safety", "exit", "door", "neon", "vintage",
    "retro", "japanese", "chinese", "korean", "arabic", "english", "french", "spanish",
    "german", "italian", "indian", "thai", "vertical", "horizontal", "square", "wide", "tall",
    "presentation", "title", "blog", "podcast", "channel", "video", "game", "news",
    "recipe", "fitness", "gym", "yoga", "coffee", "tea", "sushi", "pizza", "burger", "menu",
    "info", "product", "nature", "science", "school", "class", "team", "company", "brand",
    "event", "party", "festival", "sports", "football", "soccer", "app", "ios", "android",
    "social", "media", "profile", "cover", "header", "hero", "kids", "children's", "cute",
    "main", "e-commerce", "ecommerce", "listing", "amazon", "catalog", "catalogue",
}
# Words that name text, places on the canvas or the canvas itself: never objects.
NON_OBJECTS = {
    "text", "word", "words", "title", "heading", "headline", "subtitle", "caption", "tagline",
    "slogan", "letter", "letters", "lettering", "font", "label", "labels", "sentence",
    "phrase", "message", "name", "number", "line", "lines", "character", "characters",
    "top", "bottom", "left", "right", "middle", "center", "centre", "side", "corner", "edge",
    "front", "back", "foreground", "distance", "area", "part", "half", "space",
    "background", "backdrop", "style", "color", "colour", "shade", "tone", "aspect", "ratio",
    "resolution", "format", "size", "version", "way", "kind", "type", "sort", "lot", "bit",
    "thing", "things", "something", "item", "items", "element", "elements", "object",
    "objects", "step", "steps", "stage", "stages", "point", "points", "row", "column",
    "transparency", "alpha", "detail", "details", "quality", "look", "feel", "mood", "vibe",
    "theme", "layout", "design", "composition", "margin", "border", "pixel", "pixels",
    "pair", "couple", "dozen", "set", "group", "bunch", "handful", "image", "picture",
    "day", "night", "morning", "evening", "afternoon", "time", "today", "year", "minute",
    "it", "them", "one", "ones", "each", "other", "another", "light", "shadow", "lighting",
    "scene", "view", "illustration", "sky", "floor", "ground", "surface", "trim",
    "english", "chinese", "japanese", "korean", "arabic", "script", "language", "tip",
    "tips", "rest", "close-up", "closeup", "contrast", "gradient", "texture", "pattern",
}
# Abstract or institutional nouns: the topic of an image, not things to draw.
NON_OBJECTS |= {
    "brand", "company", "business", "event", "party", "festival", "sale", "sales",
    "launch", "campaign", "service", "team", "club", "conference", "podcast", "channel",
    "video", "show", "season", "holiday", "birthday", "anniversary", "celebration",
    "announcement", "greeting", "welcome", "advertisement", "promotion", "discount",
    "offer", "deal", "concept", "idea", "story", "news", "update", "summary", "report",
    "weekend", "week", "month", "opening", "course", "class", "lesson", "workshop",
    "meeting", "webinar", "meetup", "concert", "exhibition", "fair", "market", "contest",
    "giveaway", "countdown", "reminder", "tutorial", "guide", "recipe", "menu", "special",
    "vibe", "vibes", "energy", "love", "peace", "joy", "happiness", "success", "motivation",
    "inspiration", "quote", "saying", "mood", "atmosphere", "emotion", "feeling", "cut",
}
# Body parts: objects only when counted or introduced ("a hand"), never in "holding hands".
BODY_PARTS = {"hand", "hands", "eye", "eyes", "ear", "ears", "arm", "arms", "leg", "legs",
              "foot", "feet", "finger", "fingers", "hair", "face", "faces", "head", "heads",
              "paw", "paws", "wing", "wings", "tail", "tails", "teeth", "lips", "cheeks"}
# Words after which a noun phrase names the topic or purpose, not an object to draw.
TOPIC_CUES = {"for", "about", "advertising", "promoting", "announcing", "celebrating",
              "honoring", "honouring", "marketing", "selling", "introducing"}

# Words that introduce text to draw before a quote.
TEXT_CUES = ("says", "say", "saying", "reads", "read", "reading", "titled", "entitled",
             "title", "heading", "headline", "text", "word", "words", "caption", "captioned",
             "labeled", "labelled", "label", "written", "writing", "write", "lettering",
             "slogan", "tagline", "subtitle", "showing", "shows", "displaying", "name")
TITLE_CUES = {"title", "titled", "entitled", "heading", "headline", "says", "saying",
              "reads", "reading", "word", "text", "lettering", "slogan", "written"}
LABEL_CUES = {"labeled", "labelled", "label", "labels", "steps", "buttons", "button",
              "tabs", "items", "options"}
NAME_CUES = {"named", "called", "nicknamed"}
# Things whose name is the text of the image ('a coffee shop called "Bean There"'); a pet's
# or a person's name is not.
BRAND_NOUNS = set("""
logo brand shop store cafe café coffeehouse coffeeshop restaurant bakery bar pub bistro diner
app application product company business startup label boutique salon studio gym hotel
band podcast channel game website site magazine book newsletter market bookstore bookshop
florist brewery winery pizzeria teahouse tearoom bookstore shopfront storefront truck
franchise chain service platform agency firm clinic school academy club team festival
event conference show series blog newspaper journal line collection perfume beer wine
cereal soda juice snack candy chocolate coffee tea sign signboard poster banner wordmark
emblem badge icon packaging package bottle can box bag font typeface place parlor parlour
eatery grill lounge barbershop bakeshop patisserie creamery deli cafeteria canteen""".split())
# Chinese/Japanese/Korean words for the things whose name is the image's text.
CJK_BRAND_WORDS = {"品牌", "牌子", "标志", "標誌", "商标", "标识", "招牌", "店", "商店", "咖啡店",
                   "咖啡馆", "面包店", "餐厅", "餐馆", "面馆", "应用", "公司", "产品", "商品",
                   "ロゴ", "ブランド", "看板", "カフェ", "アプリ", "会社", "レストラン", "パン屋",
                   "로고", "브랜드", "간판", "가게", "카페", "식당", "앱", "회사", "상품", "제품"}
# Size and weight words before a quote (大号红色标题“…”, 大きな文字「…」, 큰 제목 "…").
CJK_TEXT_SIZES = {"大号": "big", "大字": "big", "超大": "big", "巨大": "big", "特大": "big",
                  "大标题": "big", "大きな": "big", "大きい": "big", "小号": "small",
                  "小字": "small", "小さな": "small", "小さい": "small", "粗体": "bold",
                  "加粗": "bold", "太字": "bold"}
KO_TEXT_SIZES = {"큰": "big", "커다란": "big", "거대한": "big", "작은": "small", "굵은": "bold"}
CJK_TEXT_DOCS = {"标题", "文字", "字", "タイトル", "文字", "제목", "글자", "문구", "텍스트"}
# Shapes a text is set in: '"NEW" in a red circle', '"SALE" on a badge'.
TEXT_FRAMES = {"circle": "circle", "ring": "circle", "disc": "circle", "disk": "circle",
               "badge": "badge", "seal": "badge", "sticker": "badge", "stamp": "badge",
               "star": "badge", "burst": "badge", "starburst": "badge", "roundel": "circle"}

# --- English colours beyond CSS names --------------------------------------------------------
COLOR_ALIASES = {
    "grey": "gray", "golden": "gold", "silvery": "silver", "reddish": "red",
    "bluish": "blue", "greenish": "green", "yellowish": "yellow", "purplish": "purple",
    "pinkish": "pink", "navy": "navy", "sky-blue": "skyblue", "rose-colored": "pink",
    "cream": "#fffdd0", "peach": "#ffcba4", "mint": "#98ff98", "burgundy": "#800020",
    "mustard": "#e1ad01", "emerald": "#50c878", "scarlet": "#ff2400", "amber": "#ffbf00",
    "charcoal": "#36454f", "copper": "#b87333", "bronze": "#cd7f32", "rust": "#b7410e",
    "lilac": "#c8a2c8", "mauve": "#e0b0ff", "jade": "#00a86b", "cobalt": "#0047ab",
    "sapphire": "#0f52ba", "ruby": "#e0115f", "wine": "#722f37", "sand": "#c2b280",
    "sandy": "#c2b280", "pastel": None, "multicolored": None,
}
# Two-word colours that have a CSS name: "dark blue" -> darkblue.
COLOR_PREFIXES = ("dark", "light", "pale", "deep", "bright", "hot", "navy", "sky", "sea",
                  "forest", "lime", "royal", "midnight", "olive", "baby", "neon", "pastel")
# Colour words that are also nouns: a colour only when another noun follows ("an orange cat").
AMBIGUOUS_COLORS = {"orange", "lime", "olive", "chocolate", "tomato", "salmon", "plum",
                    "peach", "coral", "gold", "silver", "rose", "violet", "lavender", "mint",
                    "cream", "sand", "rust", "wine", "ivory", "tan", "navy", "amber",
                    "emerald", "ruby", "jade", "charcoal", "copper", "bronze", "honeydew",
                    "orchid", "thistle", "wheat", "linen", "snow", "turquoise", "aqua",
                    "crimson", "teal", "indigo", "khaki", "sienna", "peru", "moccasin",
                    "bisque", "azure", "cornsilk", "seashell", "gainsboro", "tomato",
                    "firebrick", "fuchsia", "magenta", "cyan", "maroon", "sapphire",
                    "scarlet", "burgundy", "mustard", "lilac", "mauve", "cobalt"}

# --- English object nouns recognised without an article ("a dog wearing sunglasses") ---------
COMMON_NOUNS = set("""
cat dog bird fish horse cow pig sheep goat chicken duck rabbit bunny mouse rat hamster fox wolf
bear panda koala tiger lion leopard cheetah elephant giraffe zebra monkey gorilla deer moose
camel kangaroo penguin owl eagle parrot flamingo swan crow pigeon butterfly bee ladybug ant
spider snail frog turtle tortoise snake lizard crocodile dinosaur dragon unicorn whale dolphin
shark octopus crab jellyfish seal otter squirrel hedgehog puppy kitten lamb calf pony donkey
apple banana orange lemon lime pear peach cherry grape strawberry blueberry raspberry watermelon
melon pineapple mango kiwi coconut avocado tomato potato carrot onion garlic pepper cucumber
broccoli corn pumpkin mushroom eggplant lettuce cabbage bread croissant bagel donut doughnut
cake cupcake cookie pie muffin pancake waffle pizza burger hamburger sandwich hotdog taco
burrito sushi noodle noodles ramen rice dumpling egg cheese chocolate candy lollipop icecream
popcorn coffee tea milk juice wine beer soda water cocktail soup salad steak sausage fries
rose tulip sunflower daisy lily orchid lotus flower tree palm cactus bush plant leaf leaves
grass fern bamboo seed sprout mushroom vine
chair table desk sofa couch bed lamp shelf bookshelf cabinet drawer wardrobe mirror clock
rug carpet pillow cushion blanket curtain window door stool bench bathtub sink toilet
car bus truck van taxi bicycle bike motorcycle scooter train tram airplane plane jet
helicopter rocket spaceship boat ship sailboat yacht canoe submarine tractor ambulance
house home building castle tower skyscraper church temple pagoda lighthouse bridge barn tent
cabin hut igloo windmill pyramid fountain fence gate road path wall
cup mug glass bottle jar bowl plate fork knife spoon chopsticks pot pan kettle teapot can
vase basket box bag backpack suitcase umbrella hat cap helmet crown scarf glove gloves shoe
shoes boot boots sock socks shirt dress jacket coat sweater tie belt watch ring necklace
earring bracelet sunglasses glasses headphones earphones scissors pants jeans
phone smartphone laptop computer keyboard monitor tv television camera radio speaker
microphone guitar piano violin drum trumpet book notebook pencil pen crayon brush envelope
letter key lock candle lantern balloon kite ball toy teddy doll robot gift present ribbon
bell flag trophy medal coin wallet card map globe compass clockface calendar toggle button
switch slider checkbox icon arrow heart star moon sun cloud rainbow lightning snowflake
raindrop planet comet mountain hill volcano river lake ocean wave island rock stone
sand shell pearl diamond crystal gem feather bone skull anchor wheel tire ladder hammer
wrench screwdriver saw axe shovel rake bucket broom sponge soap towel toothbrush
candle fireplace fire torch flashlight battery bulb magnet telescope microscope
snowman sled skis skateboard surfboard racket bat trophy chess dice puzzle
person man woman boy girl child baby king queen knight wizard witch chef doctor astronaut
pirate ninja soldier farmer teacher student clown ghost alien mermaid fairy angel
""".split())

# Compound labels kept whole so the head noun matches and the picture is right.
COMPOUNDS = {
    "palm tree", "pine tree", "oak tree", "christmas tree", "apple tree", "cherry tree",
    "gift box", "coffee mug", "coffee cup", "tea cup", "beach umbrella", "ice block",
    "ice cube", "ice cream", "hot dog", "teddy bear", "polar bear", "fire truck",
    "fire hydrant", "traffic light", "street lamp", "street light", "light bulb",
    "alarm clock", "wine glass", "water bottle", "paper plane", "hot air balloon",
    "sports car", "race car", "school bus", "sail boat", "rubber duck", "goldfish bowl",
    "fish bowl", "picnic basket", "treasure chest", "birthday cake", "wedding cake",
    "cherry blossom", "maple leaf", "swimming pool", "park bench", "coffee table",
    "dining table", "office chair", "armchair", "bookcase", "door knob", "mailbox",
    "soccer ball", "basketball", "football", "tennis ball", "baseball bat", "golf ball",
    "space shuttle", "ice cream cone", "french fries", "fried egg", "cup of coffee",
    "bowl of noodles", "paper lantern", "red panda", "sea turtle", "killer whale",
    "bumble bee", "honey bee", "dragon fly", "fire place", "toy car", "toy robot",
    "snow globe", "tea pot", "coffee pot", "frying pan", "shopping bag", "shopping cart",
    "credit card", "gift card", "birthday card", "play button", "smart phone",
    "watering can", "trash can", "tin can", "steamer basket", "piggy bank", "beach ball",
    "washing machine", "sewing machine", "coffee machine", "vending machine", "night light",
    "desk lamp", "floor lamp",
}

# --- scenes (background backdrops) ---------------------------------------------------------
# Word after "in/on/at (the/a)" -> SCENES name of planner.schema.
SCENE_WORDS = {
    "porch": "porch", "veranda": "porch", "farmyard": "farm", "farm": "farm",
    "barnyard": "farm", "beach": "beach", "seaside": "beach", "shore": "beach",
    "night": "night", "nighttime": "night", "sky": "sky", "sunset": "sunset",
    "dusk": "sunset", "sunrise": "sunset", "dawn": "sunset", "field": "field",
    "meadow": "field", "grassland": "field", "garden": "field", "park": "field",
    "room": "room", "bedroom": "room", "living room": "room", "office": "room",
    "classroom": "room", "wall": "wall", "city": "city", "town": "city", "downtown": "city",
    "skyline": "city", "water": "water", "lake": "water", "sea": "water", "ocean": "water",
    "pond": "water", "river": "water", "snow": "snow", "winter": "snow", "forest": "forest",
    "woods": "forest", "jungle": "forest", "desert": "desert", "space": "space",
    "outer space": "space", "galaxy": "space", "underwater": "underwater",
    "rain": "rain", "storm": "rain", "studio": "studio", "street": "street",
    "alley": "street", "mountains": "mountain", "hills": "mountain", "kitchen": "kitchen",
    "table": "table", "tabletop": "table", "countertop": "kitchen", "counter": "kitchen",
    "midnight": "night", "starlight": "night", "moonlight": "night", "evening": "sunset",
    "twilight": "sunset", "floor": "room", "ground": "field", "lawn": "field",
}
# Everyday nouns that are things to draw ("a table with four chairs") but name where the
# picture is set when something sits on/in/under them, uncounted and uncoloured ("apples on
# a table", "a boat on the lake", "a tent under the stars"): noun -> (scene, prepositions).
_SURFACE = frozenset({"on", "upon", "onto", "atop", "across", "along"})
_WATERS = frozenset({"on", "in", "into", "across", "upon"})
PLACE_NOUNS = {
    "table": ("table", _SURFACE), "desk": ("table", _SURFACE), "road": ("street", _SURFACE),
    "grass": ("field", _SURFACE | {"in"}), "sand": ("beach", _SURFACE | {"in"}),
    "wall": ("wall", _SURFACE), "water": ("water", _WATERS), "lake": ("water", _WATERS),
    "river": ("water", _WATERS), "ocean": ("water", _WATERS),
    "star": ("night", frozenset({"under", "beneath", "underneath", "below"})),
}
# Scene words after "in/on/at" that name a place even with a relation word before them.
SCENE_BARE = {"underwater": "underwater", "at night": "night", "outdoors": "field",
              "indoors": "room", "under the sea": "underwater", "in space": "space",
              "snowy": "snow", "rainy": "rain", "starry": "night", "nighttime": "night",
              "night-sky": "night", "starlit": "night", "moonlit": "night"}
# Representative colours of each scene, for the scene tint and text contrast.
SCENE_COLORS = {
    "sky": "#9fd3f5", "sunset": "#f4a259", "beach": "#f3e0b5", "field": "#9ccc65",
    "night": "#1b2541", "room": "#e9e2d6", "table": "#c8a27a", "wall": "#ece7df",
    "city": "#8d99ae", "water": "#4f9dd9", "snow": "#f2f6fa", "forest": "#2f6b3a",
    "desert": "#e3c07c", "space": "#0d1022", "underwater": "#1f6f8b", "rain": "#6b7b8c",
    "studio": "#dedede", "farm": "#a8c66c", "porch": "#b08968", "street": "#7a7f87",
    "mountain": "#7fa0b5", "kitchen": "#efe6d8",
}

# --- style words -----------------------------------------------------------------------------
STYLE_WORDS = {
    "flat": "flat", "minimalist": "minimalist", "minimal": "minimalist",
    "watercolor": "watercolor", "watercolour": "watercolor", "photo": "photo",
    "photograph": "photo", "photorealistic": "photo", "realistic": "photo",
    "photographic": "photo", "retro": "retro", "vintage": "retro", "cartoon": "cartoon",
    "cartoonish": "cartoon", "anime": "anime", "manga": "anime", "sketch": "sketch",
    "pencil": "sketch", "3d": "3d", "isometric": "isometric", "pixel": "pixel",
    "neon": "neon", "cyberpunk": "neon", "vaporwave": "neon", "oil": "painting",
    "painting": "painting", "painted": "painting", "impressionist": "painting",
    "comic": "comic", "line-art": "line art", "lineart": "line art", "kawaii": "cartoon",
    "cute": "cartoon", "geometric": "flat", "vector": "flat", "hand-drawn": "sketch",
    "doodle": "sketch", "chalk": "chalkboard", "pastel": "pastel", "noir": "noir",
    "cinematic": "photo", "glossy": "3d", "clay": "3d", "low-poly": "isometric",
    "elegant": "minimalist", "modern": "flat", "bold": "flat", "playful": "cartoon",
}

# Styles named by two words (matched on the lowercased prompt, hyphens as spaces).
STYLE_PHRASES = {
    "line art": "line art", "line drawing": "line art", "outline drawing": "line art",
    "paper cut": "paper cut", "papercut": "paper cut", "paper craft": "paper cut",
    "chalkboard style": "chalkboard", "chalkboard art": "chalkboard",
    "chalk art": "chalkboard", "on a chalkboard": "chalkboard", "pixel art": "pixel",
    "3d render": "3d", "photo like": "photo", "photo-like": "photo",
}

# --- aspect and size words ------------------------------------------------------------------
# Longest phrases first when matching; explicit W:H in the prompt wins over all of these.
ASPECT_PHRASES = (
    ("youtube thumbnail", (16, 9)), ("video thumbnail", (16, 9)), ("thumbnail", (16, 9)),
    ("email header", (3, 1)), ("e-mail header", (3, 1)), ("twitter header", (3, 1)),
    ("website header", (3, 1)), ("web header", (3, 1)), ("header image", (3, 1)),
    ("header", (3, 1)), ("linkedin banner", (3, 1)), ("vertical banner", (1, 3)),
    ("roll-up banner", (1, 3)), ("rollup banner", (1, 3)), ("banner", (3, 1)),
    ("phone wallpaper", (9, 16)), ("mobile wallpaper", (9, 16)), ("phone background", (9, 16)),
    ("lock screen", (9, 16)), ("lockscreen", (9, 16)), ("desktop wallpaper", (16, 9)),
    ("instagram story", (9, 16)), ("story", (9, 16)), ("stories", (9, 16)), ("reel", (9, 16)),
    ("tiktok", (9, 16)), ("shorts", (9, 16)), ("instagram post", (1, 1)),
    ("profile picture", (1, 1)), ("avatar", (1, 1)), ("album cover", (1, 1)),
    ("book cover", (2, 3)), ("movie poster", (2, 3)), ("poster", (2, 3)), ("flyer", (3, 4)),
    ("presentation slide", (16, 9)), ("slide", (16, 9)), ("widescreen", (16, 9)),
    ("ultrawide", (21, 9)), ("ultra-wide", (21, 9)), ("cinematic", (21, 9)),
    ("panorama", (3, 1)), ("panoramic", (3, 1)), ("bookmark", (1, 3)),
    ("business card", (7, 4)), ("postcard", (3, 2)), ("landscape", (3, 2)),
    ("horizontal", (16, 9)), ("wide", (16, 9)), ("portrait", (2, 3)), ("vertical", (9, 16)),
    ("tall", (9, 16)), ("square", (1, 1)),
    # Chinese / Japanese / Korean
    ("手机壁纸", (9, 16)), ("スマホ壁紙", (9, 16)), ("휴대폰 배경화면", (9, 16)), ("竖版", (9, 16)),
    ("竖屏", (9, 16)), ("縦長", (9, 16)), ("縦型", (9, 16)), ("세로", (9, 16)),
    ("横版", (16, 9)), ("横屏", (16, 9)), ("横長", (16, 9)), ("가로", (16, 9)),
    ("横幅", (3, 1)), ("正方形", (1, 1)), ("方形", (1, 1)), ("정사각형", (1, 1)),
    ("배너", (3, 1)), ("バナー", (3, 1)), ("海报", (2, 3)), ("ポスター", (2, 3)), ("포스터", (2, 3)),
)
# Orientation words: they override an image type's usual shape when the two disagree
# ("横版海报" is a landscape poster).
ORIENTATION_WORDS = {"wide", "widescreen", "horizontal", "landscape", "vertical", "tall",
                     "portrait", "square", "ultrawide", "ultra-wide", "cinematic", "panoramic",
                     "panorama", "竖版", "竖屏", "縦長", "縦型", "세로", "横版", "横屏", "横長",
                     "가로", "正方形", "方形", "정사각형"}
# Words that take the aspect only when they are the image type, e.g. "wide" in "a wide shot"
# but not in "a wide river": handled by requiring no noun right after except image words.
ADJ_ASPECTS = {"wide", "tall", "square", "horizontal", "vertical", "landscape", "portrait",
               "widescreen", "panoramic", "cinematic", "ultrawide", "ultra-wide"}

TRANSPARENT_PHRASES = (
    "transparent background", "transparent bg", "transparent backdrop", "no background",
    "with transparency", "with alpha", "alpha channel", "on transparent", "transparent png",
    "background removed", "without background", "without a background", "cutout", "cut-out",
    "cut out", "alpha background", "transparent backround",
    "isolated on transparent", "clear background",
    "透明背景", "背景透明", "透明底", "背景を透明", "透過背景", "背景透過", "透明な背景", "透過png",
    "투명 배경", "배경 투명", "투명한 배경", "배경이 투명", "배경 없이",
)

# --- Chinese / Japanese ------------------------------------------------------------------------
CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "两": 2, "兩": 2, "貳": 2, "三": 3,
              "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "几": 3, "幾": 3}
# Japanese native counting: ひとつ, ふたつ ... (kana and kanji-with-つ forms).
JA_NATIVE = {"ひとつ": 1, "ふたつ": 2, "みっつ": 3, "よっつ": 4, "いつつ": 5, "むっつ": 6,
             "ななつ": 7, "やっつ": 8, "ここのつ": 9, "とお": 10, "一人": 1, "二人": 2, "ひとり": 1,
             "ふたり": 2, "一対": 2, "一組": 1, "一双": 2, "一對": 2, "几个": 3, "幾つ": 3,
             "一些": 3, "一对": 2, "一群": 5, "一堆": 3, "いくつか": 3, "数匹": 3, "数本": 3,
             "数個": 3, "数羽": 3, "多个": 3}
# Counters: classifier -> the English container label when the counter is a container.
CJK_COUNTERS = {
    "只": None, "隻": None, "个": None, "個": None, "朵": None, "本": None, "张": None,
    "張": None, "匹": None, "头": None, "頭": None, "つ": None, "条": None, "條": None,
    "棵": None, "株": None, "把": None, "辆": None, "輛": None, "台": None, "架": None,
    "座": None, "栋": None, "棟": None, "间": None, "間": None, "枚": None, "羽": None,
    "輪": None, "冊": None, "册": None, "件": None, "顶": None, "頂": None, "双": None,
    "雙": None, "位": None, "名": None, "人": None, "块": "piece", "塊": "piece", "片": "slice",
    "颗": None, "顆": None, "粒": None, "根": None, "支": None, "枝": None, "艘": None,
    "隻目": None, "軒": None, "杯": "cup", "碗": "bowl", "盘": "plate", "盤": "plate",
    "皿": "plate", "瓶": "bottle", "盒": "box", "箱": "box", "袋": "bag", "篮": "basket",
    "籃": "basket", "份": "serving", "串": None, "束": "bouquet", "面": None, "幅": None,
    "扇": None, "盏": None, "盞": None, "副": None, "套": None, "尾": None, "貫": "piece",
    "切れ": "slice", "個目": None, "脚": None, "着": None, "足": None, "挺": None,
}
# Chinese and Japanese colour words (longest first when matching).
CJK_COLORS = {
    "红色": "red", "紅色": "red", "红": "red", "紅": "red", "赤い": "red", "赤": "red",
    "蓝色": "blue", "藍色": "blue", "蓝": "blue", "藍": "blue", "青い": "blue", "青": "blue",
    "绿色": "green", "綠色": "green", "绿": "green", "綠": "green", "緑色": "green",
    "緑": "green", "黄色": "yellow", "黃色": "yellow", "黄": "yellow", "黃": "yellow",
    "黄色い": "yellow", "白色": "white", "白": "white", "白い": "white", "黑色": "black",
    "黑": "black", "黒い": "black", "黒": "black", "粉色": "pink", "粉红色": "pink",
    "粉红": "pink", "粉紅": "pink", "ピンク": "pink", "桃色": "pink", "紫色": "purple",
    "紫": "purple", "橙色": "orange", "橘色": "orange", "橙": "orange", "オレンジ色": "orange",
    "灰色": "gray", "灰": "gray", "グレー": "gray", "棕色": "brown", "褐色": "brown",
    "咖啡色": "brown", "茶色": "brown", "茶色い": "brown", "金色": "gold", "银色": "silver",
    "銀色": "silver", "水色": "lightskyblue", "天蓝色": "skyblue", "青色": "cyan",
    "深蓝色": "navy", "米色": "beige",
}
# Japanese colour adjectives double as nouns' prefixes; Korean colour words.
KO_COLORS = {
    "빨간색": "red", "빨간": "red", "빨강": "red", "붉은": "red", "파란색": "blue",
    "파란": "blue", "파랑": "blue", "푸른": "blue", "노란색": "yellow", "노란": "yellow",
    "노랑": "yellow", "초록색": "green", "초록": "green", "녹색": "green", "하얀색": "white",
    "하얀": "white", "흰색": "white", "흰": "white", "하양": "white", "검은색": "black",
    "검은": "black", "검정색": "black", "검정": "black", "까만": "black", "분홍색": "pink",
    "분홍": "pink", "핑크색": "pink", "핑크": "pink", "주황색": "orange", "주황": "orange",
    "보라색": "purple", "보라": "purple", "회색": "gray", "갈색": "brown", "금색": "gold",
    "은색": "silver", "하늘색": "skyblue", "남색": "navy", "베이지": "beige",
}

# Chinese (simplified and traditional) and Japanese nouns -> English labels.
CJK_NOUNS = {
    # animals
    "猫": "cat", "猫咪": "cat", "小猫": "cat", "ねこ": "cat", "ネコ": "cat", "狗": "dog",
    "小狗": "dog", "犬": "dog", "いぬ": "dog", "イヌ": "dog", "鸟": "bird", "鳥": "bird",
    "小鸟": "bird", "とり": "bird", "鱼": "fish", "魚": "fish", "金鱼": "goldfish",
    "金魚": "goldfish", "马": "horse", "馬": "horse", "牛": "cow", "奶牛": "cow", "猪": "pig",
    "豬": "pig", "豚": "pig", "羊": "sheep", "绵羊": "sheep", "山羊": "goat", "鸡": "chicken",
    "雞": "chicken", "鶏": "chicken", "鸭": "duck", "鴨": "duck", "アヒル": "duck",
    "兔子": "rabbit", "兔": "rabbit", "うさぎ": "rabbit", "ウサギ": "rabbit", "兎": "rabbit",
    "老鼠": "mouse", "ネズミ": "mouse", "狐狸": "fox", "狐": "fox", "キツネ": "fox",
    "狼": "wolf", "熊": "bear", "クマ": "bear", "熊猫": "panda", "パンダ": "panda",
    "老虎": "tiger", "虎": "tiger", "トラ": "tiger", "狮子": "lion", "獅子": "lion",
    "ライオン": "lion", "大象": "elephant", "象": "elephant", "ゾウ": "elephant",
    "长颈鹿": "giraffe", "キリン": "giraffe", "斑马": "zebra", "猴子": "monkey", "猿": "monkey",
    "サル": "monkey", "鹿": "deer", "骆驼": "camel", "袋鼠": "kangaroo", "企鹅": "penguin",
    "企鵝": "penguin", "ペンギン": "penguin", "猫头鹰": "owl", "フクロウ": "owl", "鹰": "eagle",
    "鸚鵡": "parrot", "鹦鹉": "parrot", "天鹅": "swan", "白鳥": "swan", "蝴蝶": "butterfly",
    "蝶": "butterfly", "チョウ": "butterfly", "蜜蜂": "bee", "蜂": "bee", "ハチ": "bee",
    "蚂蚁": "ant", "蜘蛛": "spider", "蜗牛": "snail", "青蛙": "frog", "蛙": "frog",
    "カエル": "frog", "乌龟": "turtle", "亀": "turtle", "カメ": "turtle", "蛇": "snake",
    "恐龙": "dinosaur", "恐竜": "dinosaur", "龙": "dragon", "龍": "dragon", "竜": "dragon",
    "鲸鱼": "whale", "鯨": "whale", "クジラ": "whale", "海豚": "dolphin", "イルカ": "dolphin",
    "鲨鱼": "shark", "サメ": "shark", "章鱼": "octopus", "タコ": "octopus", "螃蟹": "crab",
    "カニ": "crab", "松鼠": "squirrel", "リス": "squirrel", "刺猬": "hedgehog",
    "独角兽": "unicorn", "ユニコーン": "unicorn",
    # food and drink
    "苹果": "apple", "蘋果": "apple", "りんご": "apple", "リンゴ": "apple", "林檎": "apple",
    "香蕉": "banana", "バナナ": "banana", "橙子": "orange", "橘子": "orange",
    "オレンジ": "orange", "みかん": "orange", "柠檬": "lemon", "レモン": "lemon", "梨": "pear",
    "桃子": "peach", "桃": "peach", "もも": "peach", "樱桃": "cherry", "さくらんぼ": "cherry",
    "葡萄": "grape", "ぶどう": "grape", "ブドウ": "grape", "草莓": "strawberry",
    "いちご": "strawberry", "イチゴ": "strawberry", "苺": "strawberry", "西瓜": "watermelon",
    "スイカ": "watermelon", "菠萝": "pineapple", "パイナップル": "pineapple", "芒果": "mango",
    "椰子": "coconut", "番茄": "tomato", "西红柿": "tomato", "トマト": "tomato",
    "土豆": "potato", "じゃがいも": "potato", "胡萝卜": "carrot", "にんじん": "carrot",
    "ニンジン": "carrot", "蘑菇": "mushroom", "キノコ": "mushroom", "きのこ": "mushroom",
    "南瓜": "pumpkin", "かぼちゃ": "pumpkin", "カボチャ": "pumpkin", "玉米": "corn",
    "面包": "bread", "麵包": "bread", "パン": "bread", "蛋糕": "cake", "ケーキ": "cake",
    "饼干": "cookie", "クッキー": "cookie", "甜甜圈": "donut", "ドーナツ": "donut",
    "披萨": "pizza", "ピザ": "pizza", "汉堡": "hamburger", "ハンバーガー": "hamburger",
    "三明治": "sandwich", "サンドイッチ": "sandwich", "寿司": "sushi", "すし": "sushi",
    "面条": "noodles", "面": "noodles", "麵": "noodles", "拉面": "ramen", "ラーメン": "ramen",
    "うどん": "udon", "米饭": "rice", "ご飯": "rice", "ごはん": "rice", "饺子": "dumpling",
    "餃子": "dumpling", "包子": "bun", "鸡蛋": "egg", "蛋": "egg", "卵": "egg", "たまご": "egg",
    "冰淇淋": "ice cream", "アイスクリーム": "ice cream", "アイス": "ice cream",
    "巧克力": "chocolate", "チョコレート": "chocolate", "糖果": "candy", "咖啡": "coffee",
    "コーヒー": "coffee", "茶": "tea", "お茶": "tea", "绿茶": "green tea", "奶茶": "milk tea",
    "牛奶": "milk", "牛乳": "milk", "果汁": "juice", "ジュース": "juice", "啤酒": "beer",
    "ビール": "beer", "葡萄酒": "wine", "ワイン": "wine", "月饼": "mooncake",
    "汤": "soup", "スープ": "soup", "团子": "dumpling", "団子": "dango", "だんご": "dango",
    "おにぎり": "rice ball", "饭团": "rice ball",
    # plants
    "花": "flower", "花朵": "flower", "はな": "flower", "玫瑰": "rose", "玫瑰花": "rose",
    "バラ": "rose", "薔薇": "rose", "郁金香": "tulip", "チューリップ": "tulip",
    "向日葵": "sunflower", "ひまわり": "sunflower", "ヒマワリ": "sunflower", "雏菊": "daisy",
    "百合": "lily", "莲花": "lotus", "荷花": "lotus", "蓮": "lotus", "樱花": "cherry blossom",
    "桜": "cherry blossom", "さくら": "cherry blossom", "サクラ": "cherry blossom",
    "树": "tree", "樹": "tree", "木": "tree", "き": "tree", "松树": "pine tree",
    "松": "pine tree", "棕榈树": "palm tree", "椰子树": "palm tree", "ヤシの木": "palm tree",
    "竹子": "bamboo", "竹": "bamboo", "仙人掌": "cactus", "サボテン": "cactus", "草": "grass",
    "叶子": "leaf", "树叶": "leaf", "葉": "leaf", "植物": "plant", "盆栽": "bonsai",
    "枫叶": "maple leaf", "紅葉": "maple leaf",
    # furniture, household
    "椅子": "chair", "いす": "chair", "イス": "chair", "桌子": "table", "テーブル": "table",
    "机": "desk", "书桌": "desk", "沙发": "sofa", "ソファ": "sofa", "床": "bed",
    "ベッド": "bed", "灯": "lamp", "台灯": "lamp", "ランプ": "lamp", "灯笼": "lantern",
    "燈籠": "lantern", "提灯": "lantern", "ちょうちん": "lantern", "书架": "bookshelf",
    "本棚": "bookshelf", "镜子": "mirror", "鏡": "mirror", "钟": "clock", "时钟": "clock",
    "時計": "clock", "窗户": "window", "窗": "window", "窓": "window", "门": "door",
    "門": "gate", "ドア": "door", "杯子": "cup", "コップ": "cup", "カップ": "cup",
    "马克杯": "mug", "マグカップ": "mug", "碗": "bowl", "茶碗": "bowl", "お椀": "bowl",
    "盘子": "plate", "お皿": "plate", "瓶子": "bottle", "ボトル": "bottle", "花瓶": "vase",
    "筷子": "chopsticks", "箸": "chopsticks", "勺子": "spoon", "スプーン": "spoon",
    "叉子": "fork", "フォーク": "fork", "刀": "knife", "ナイフ": "knife", "茶壶": "teapot",
    "急須": "teapot", "篮子": "basket", "かご": "basket", "箱子": "box", "盒子": "box",
    "箱": "box", "礼物": "gift", "礼盒": "gift box", "プレゼント": "gift", "蜡烛": "candle",
    "ろうそく": "candle", "キャンドル": "candle", "雨伞": "umbrella", "伞": "umbrella",
    "傘": "umbrella", "かさ": "umbrella", "帽子": "hat", "ぼうし": "hat", "鞋": "shoe",
    "鞋子": "shoe", "靴": "shoe", "くつ": "shoe", "包": "bag", "包包": "bag", "书包": "backpack",
    "かばん": "bag", "バッグ": "bag", "眼镜": "glasses", "眼鏡": "glasses", "メガネ": "glasses",
    "墨镜": "sunglasses", "太阳镜": "sunglasses", "サングラス": "sunglasses",
    "耳机": "headphones", "ヘッドホン": "headphones", "ヘッドフォン": "headphones",
    "剪刀": "scissors", "はさみ": "scissors", "ハサミ": "scissors", "书": "book", "書": "book",
    "本": "book", "笔记本": "notebook", "ノート": "notebook", "铅笔": "pencil",
    "鉛筆": "pencil", "笔": "pen", "ペン": "pen", "信封": "envelope", "封筒": "envelope",
    "钥匙": "key", "鍵": "key", "手机": "phone", "スマホ": "phone", "携帯": "phone",
    "電話": "phone", "电话": "phone", "电脑": "computer", "パソコン": "computer",
    "笔记本电脑": "laptop", "ノートパソコン": "laptop", "电视": "television",
    "テレビ": "television", "相机": "camera", "カメラ": "camera", "吉他": "guitar",
    "ギター": "guitar", "钢琴": "piano", "ピアノ": "piano", "鼓": "drum", "太鼓": "drum",
    "气球": "balloon", "風船": "balloon", "ふうせん": "balloon", "风筝": "kite", "凧": "kite",
    "黑板": "chalkboard", "黒板": "chalkboard", "白板": "whiteboard", "手表": "watch",
    "腕時計": "watch", "咖啡豆": "coffee bean", "沙漏": "hourglass", "砂時計": "hourglass",
    "球": "ball", "ボール": "ball", "足球": "soccer ball", "篮球": "basketball",
    "玩具": "toy", "おもちゃ": "toy", "机器人": "robot", "ロボット": "robot", "铃铛": "bell",
    "鈴": "bell", "旗": "flag", "旗子": "flag", "王冠": "crown", "皇冠": "crown",
    "奖杯": "trophy", "トロフィー": "trophy", "硬币": "coin", "コイン": "coin",
    "地图": "map", "地図": "map", "日历": "calendar", "カレンダー": "calendar",
    "围巾": "scarf", "マフラー": "scarf", "手套": "glove", "手袋": "glove",
    "扇子": "fan", "うちわ": "fan", "灯泡": "light bulb", "電球": "light bulb",
    # vehicles
    "汽车": "car", "汽車": "car", "车": "car", "車": "car", "くるま": "car", "クルマ": "car",
    "公交车": "bus", "巴士": "bus", "バス": "bus", "卡车": "truck", "トラック": "truck",
    "出租车": "taxi", "タクシー": "taxi", "自行车": "bicycle", "自転車": "bicycle",
    "单车": "bicycle", "摩托车": "motorcycle", "バイク": "motorcycle", "火车": "train",
    "電車": "train", "列車": "train", "电车": "tram", "新幹線": "bullet train",
    "飞机": "airplane", "飛行機": "airplane", "直升机": "helicopter", "ヘリコプター": "helicopter",
    "火箭": "rocket", "ロケット": "rocket", "船": "boat", "ふね": "boat", "小船": "boat",
    "帆船": "sailboat", "轮船": "ship", "潜水艇": "submarine", "宇宙船": "spaceship",
    "飞船": "spaceship", "拖拉机": "tractor",
    # buildings and places as objects
    "房子": "house", "房屋": "house", "家": "house", "いえ": "house", "建筑": "building",
    "ビル": "building", "建物": "building", "城堡": "castle", "城": "castle", "塔": "tower",
    "宝塔": "pagoda", "五重塔": "pagoda", "寺": "temple", "寺庙": "temple", "神社": "shrine",
    "鳥居": "torii gate", "灯塔": "lighthouse", "灯台": "lighthouse", "桥": "bridge",
    "橋": "bridge", "はし": "bridge", "帐篷": "tent", "テント": "tent", "风车": "windmill",
    "風車": "windmill", "金字塔": "pyramid", "ピラミッド": "pyramid", "喷泉": "fountain",
    "噴水": "fountain", "栅栏": "fence", "路": "road", "道路": "road", "道": "road",
    "墙": "wall",
    # nature, sky, weather
    "太阳": "sun", "太陽": "sun", "日": "sun", "月亮": "moon", "月": "moon", "つき": "moon",
    "星星": "star", "星": "star", "ほし": "star", "云": "cloud", "雲": "cloud", "くも": "cloud",
    "彩虹": "rainbow", "虹": "rainbow", "にじ": "rainbow", "闪电": "lightning",
    "雷": "lightning", "雪花": "snowflake", "雪の結晶": "snowflake", "雨滴": "raindrop",
    "山": "mountain", "やま": "mountain", "富士山": "mountain", "火山": "volcano",
    "河": "river", "川": "river", "かわ": "river", "湖": "lake", "海浪": "wave", "波": "wave",
    "岛": "island", "島": "island", "石头": "rock", "岩": "rock", "石": "stone",
    "贝壳": "shell", "貝殻": "shell", "冰块": "ice block", "氷": "ice block",
    "钻石": "diamond", "ダイヤモンド": "diamond", "心": "heart", "爱心": "heart",
    "ハート": "heart", "羽毛": "feather", "雪人": "snowman", "雪だるま": "snowman",
    "行星": "planet", "惑星": "planet", "地球": "earth",
    # people
    "人": "person", "男人": "man", "女人": "woman", "男孩": "boy", "女孩": "girl",
    "孩子": "child", "婴儿": "baby", "男の子": "boy", "女の子": "girl", "子供": "child",
    "子ども": "child", "赤ちゃん": "baby", "宇航员": "astronaut", "宇宙飛行士": "astronaut",
    "厨师": "chef", "医生": "doctor", "机器猫": "robot cat", "雪女": "woman",
}
# Image-type nouns in Chinese/Japanese/Korean: the canvas itself, never objects.
CJK_DOC_WORDS = {
    "海报", "海報", "ポスター", "横幅", "标语", "招牌", "看板", "标志", "標識", "卡片", "贺卡",
    "カード", "封面", "表紙", "菜单", "メニュー", "菜單", "图片", "圖片", "画像", "图", "图像",
    "插画", "イラスト", "照片", "写真", "壁纸", "壁紙", "缩略图", "サムネイル", "幻灯片",
    "スライド", "传单", "チラシ", "标志牌", "牌子", "横幅广告", "广告", "広告", "邀请函",
    "招待状", "明信片", "はがき", "ロゴ", "标识", "图标", "アイコン", "画", "絵", "场景",
    "背景", "画面", "文字", "字", "标题", "タイトル", "店", "商店", "面馆", "餐厅", "レストラン",
    "バナー", "横断幕", "名片", "名刺", "证书", "票", "チケット", "封面图", "头图", "ヘッダー",
    "手机壁纸", "スマホ壁紙", "携帯壁紙", "待ち受け", "桌面壁纸", "竖版", "横版", "縦長", "横長",
}
# Korean nouns -> English labels (matched as the start of a space-separated word, the rest
# must be a particle).
KO_NOUNS = {
    "고양이": "cat", "강아지": "dog", "개": "dog", "새": "bird", "물고기": "fish",
    "금붕어": "goldfish", "말": "horse", "소": "cow", "젖소": "cow", "돼지": "pig", "양": "sheep",
    "염소": "goat", "닭": "chicken", "병아리": "chick", "오리": "duck", "토끼": "rabbit",
    "쥐": "mouse", "여우": "fox", "늑대": "wolf", "곰": "bear", "판다": "panda",
    "호랑이": "tiger", "사자": "lion", "코끼리": "elephant", "기린": "giraffe",
    "얼룩말": "zebra", "원숭이": "monkey", "사슴": "deer", "펭귄": "penguin",
    "부엉이": "owl", "올빼미": "owl", "독수리": "eagle", "앵무새": "parrot", "백조": "swan",
    "나비": "butterfly", "벌": "bee", "꿀벌": "bee", "개미": "ant", "거미": "spider",
    "달팽이": "snail", "개구리": "frog", "거북이": "turtle", "거북": "turtle", "뱀": "snake",
    "공룡": "dinosaur", "용": "dragon", "고래": "whale", "돌고래": "dolphin", "상어": "shark",
    "문어": "octopus", "게": "crab", "다람쥐": "squirrel", "고슴도치": "hedgehog",
    "유니콘": "unicorn",
    "사과": "apple", "바나나": "banana", "오렌지": "orange", "귤": "orange", "레몬": "lemon",
    "배": "pear", "복숭아": "peach", "체리": "cherry", "포도": "grape", "딸기": "strawberry",
    "수박": "watermelon", "파인애플": "pineapple", "망고": "mango", "토마토": "tomato",
    "감자": "potato", "당근": "carrot", "버섯": "mushroom", "호박": "pumpkin",
    "옥수수": "corn", "빵": "bread", "케이크": "cake", "쿠키": "cookie", "도넛": "donut",
    "피자": "pizza", "햄버거": "hamburger", "샌드위치": "sandwich", "초밥": "sushi",
    "스시": "sushi", "국수": "noodles", "라면": "ramen", "밥": "rice", "만두": "dumpling",
    "달걀": "egg", "계란": "egg", "아이스크림": "ice cream", "초콜릿": "chocolate",
    "사탕": "candy", "커피": "coffee", "차": "tea", "녹차": "green tea", "우유": "milk",
    "주스": "juice", "맥주": "beer", "와인": "wine", "김밥": "gimbap", "떡": "rice cake",
    "꽃": "flower", "장미": "rose", "튤립": "tulip", "해바라기": "sunflower", "데이지": "daisy",
    "백합": "lily", "연꽃": "lotus", "벚꽃": "cherry blossom", "나무": "tree",
    "소나무": "pine tree", "야자수": "palm tree", "대나무": "bamboo", "선인장": "cactus",
    "풀": "grass", "잎": "leaf", "나뭇잎": "leaf", "식물": "plant", "단풍잎": "maple leaf",
    "의자": "chair", "탁자": "table", "테이블": "table", "책상": "desk", "소파": "sofa",
    "침대": "bed", "램프": "lamp", "등불": "lantern", "등": "lantern", "초롱": "lantern",
    "책장": "bookshelf", "거울": "mirror", "시계": "clock", "칠판": "chalkboard", "손목시계": "watch", "창문": "window", "문": "door",
    "컵": "cup", "머그잔": "mug", "머그컵": "mug", "잔": "cup", "그릇": "bowl", "접시": "plate",
    "병": "bottle", "꽃병": "vase", "젓가락": "chopsticks", "숟가락": "spoon", "포크": "fork",
    "칼": "knife", "주전자": "kettle", "바구니": "basket", "상자": "box", "선물": "gift",
    "선물상자": "gift box", "양초": "candle", "촛불": "candle", "우산": "umbrella",
    "모자": "hat", "신발": "shoe", "구두": "shoe", "가방": "bag", "배낭": "backpack",
    "안경": "glasses", "선글라스": "sunglasses", "헤드폰": "headphones", "가위": "scissors",
    "책": "book", "공책": "notebook", "연필": "pencil", "펜": "pen", "봉투": "envelope",
    "열쇠": "key", "휴대폰": "phone", "핸드폰": "phone", "전화기": "phone", "컴퓨터": "computer",
    "노트북": "laptop", "텔레비전": "television", "카메라": "camera", "기타": "guitar",
    "피아노": "piano", "북": "drum", "풍선": "balloon", "연": "kite", "공": "ball",
    "축구공": "soccer ball", "장난감": "toy", "로봇": "robot", "종": "bell", "깃발": "flag",
    "왕관": "crown", "트로피": "trophy", "동전": "coin", "지도": "map", "달력": "calendar",
    "목도리": "scarf", "장갑": "glove", "전구": "light bulb", "하트": "heart",
    "자동차": "car", "차량": "car", "버스": "bus", "트럭": "truck", "택시": "taxi",
    "자전거": "bicycle", "오토바이": "motorcycle", "기차": "train", "비행기": "airplane",
    "헬리콥터": "helicopter", "로켓": "rocket", "보트": "boat", "배들": "boat", "요트": "yacht",
    "잠수함": "submarine", "우주선": "spaceship", "트랙터": "tractor",
    "집": "house", "건물": "building", "성": "castle", "탑": "tower", "절": "temple",
    "등대": "lighthouse", "다리": "bridge", "텐트": "tent", "풍차": "windmill",
    "피라미드": "pyramid", "분수": "fountain", "울타리": "fence", "길": "road", "도로": "road",
    "해": "sun", "태양": "sun", "달": "moon", "별": "star", "구름": "cloud", "무지개": "rainbow",
    "번개": "lightning", "눈송이": "snowflake", "빗방울": "raindrop", "산": "mountain",
    "화산": "volcano", "강": "river", "호수": "lake", "파도": "wave", "섬": "island",
    "바위": "rock", "돌": "stone", "조개": "shell", "얼음": "ice block", "다이아몬드": "diamond",
    "깃털": "feather", "눈사람": "snowman", "행성": "planet", "지구": "earth",
    "사람": "person", "남자": "man", "여자": "woman", "소년": "boy", "소녀": "girl",
    "아이": "child", "아기": "baby", "우주비행사": "astronaut", "요리사": "chef",
}
KO_DOC_WORDS = {"포스터", "배너", "간판", "카드", "표지", "메뉴", "메뉴판", "그림", "사진",
                "이미지", "일러스트", "배경화면", "썸네일", "슬라이드", "전단지", "광고", "로고",
                "아이콘", "표지판", "초대장", "엽서", "배경", "글자", "문구", "제목", "텍스트",
                "가게", "식당"}
# Korean particles that may follow a noun inside one space-separated word.
KO_PARTICLES = ("", "이", "가", "은", "는", "을", "를", "의", "와", "과", "도", "에", "에서",
                "위에", "아래에", "옆에", "랑", "이랑", "하고", "들", "들이", "들을", "들의",
                "들과", "들와", "만", "로", "으로", "에게", "까지", "부터", "처럼")
KO_NATIVE_NUMBERS = {"하나": 1, "한": 1, "둘": 2, "두": 2, "셋": 3, "세": 3, "석": 3, "넷": 4,
                     "네": 4, "넉": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
                     "열": 10, "열한": 11, "열두": 12, "스무": 20, "스물": 20, "몇": 3,
                     "여러": 3}
KO_SINO_NUMBERS = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8,
                   "구": 9, "십": 10}
KO_COUNTERS = {"개": None, "마리": None, "송이": None, "그루": None, "대": None, "권": None,
               "장": None, "잔": "cup", "그릇": "bowl", "접시": "plate", "병": "bottle",
               "상자": "box", "조각": "piece", "명": None, "채": None, "켤레": None, "척": None,
               "벌": None, "자루": None, "알": None, "쌍": None, "봉지": "bag", "통": None}
# Style words of Chinese, Japanese and Korean prompts.
CJK_STYLES = {
    "水彩": "watercolor", "扁平": "flat", "极简": "minimalist", "極簡": "minimalist",
    "简约": "minimalist", "ミニマル": "minimalist", "复古": "retro", "復古": "retro",
    "レトロ": "retro", "卡通": "cartoon", "漫画": "comic", "アニメ": "anime", "动漫": "anime",
    "照片": "photo", "写实": "photo", "写真": "photo", "像素": "pixel", "ドット絵": "pixel",
    "霓虹": "neon", "ネオン": "neon", "手绘": "sketch", "手描き": "sketch", "油画": "painting",
    "油絵": "painting", "水墨": "painting", "수채화": "watercolor", "플랫": "flat",
    "미니멀": "minimalist", "레트로": "retro", "만화": "cartoon", "사진": "photo",
    "픽셀": "pixel", "네온": "neon", "손그림": "sketch", "유화": "painting",
}

# --- Chinese / Japanese / Korean relation, scene and function words ---------------------------
# Values: left right above below beside between around in front behind top bottom center and
# corners; "above"/"below" without an anchor noun mean the top/bottom of the image.
CJK_RELS = {
    "左边": "left", "左側": "left", "左侧": "left", "左面": "left", "左方": "left",
    "左手边": "left", "左": "left", "ひだり": "left", "右边": "right", "右側": "right",
    "右侧": "right", "右面": "right", "右方": "right", "右手边": "right", "右": "right",
    "みぎ": "right", "上面": "above", "上方": "above", "上边": "above", "之上": "above",
    "上": "above", "うえ": "above", "下面": "below", "下方": "below", "下边": "below",
    "之下": "below", "底下": "below", "下": "below", "した": "below", "旁边": "beside",
    "旁": "beside", "边上": "beside", "附近": "beside", "隔壁": "beside", "身边": "beside",
    "横": "beside", "隣": "beside", "となり": "beside", "そば": "beside", "中间": "between",
    "之间": "between", "間": "between", "あいだ": "between", "周围": "around", "周圍": "around",
    "四周": "around", "周り": "around", "まわり": "around", "周辺": "around", "里面": "in",
    "里": "in", "裡": "in", "内": "in", "中": "in", "なか": "in", "前面": "front",
    "前": "front", "まえ": "front", "后面": "behind", "後面": "behind", "后": "behind",
    "後ろ": "behind", "うしろ": "behind", "顶部": "top", "頂部": "top", "上部": "top",
    "上端": "top", "顶端": "top", "底部": "bottom", "下部": "bottom", "下端": "bottom",
    "中央": "center", "正中": "center", "中心": "center", "真ん中": "center",
    "左上角": "top left", "左上": "top left", "右上角": "top right", "右上": "top right",
    "左下角": "bottom left", "左下": "bottom left", "右下角": "bottom right",
    "右下": "bottom right",
}
CJK_SCENES = {
    "海滩": "beach", "沙滩": "beach", "海边": "beach", "ビーチ": "beach", "浜辺": "beach", "海辺": "beach",
    "砂浜": "beach", "夜晚": "night", "晚上": "night", "夜空": "night", "夜景": "night",
    "夜": "night", "天空": "sky", "空": "sky", "日落": "sunset", "夕阳": "sunset",
    "夕焼け": "sunset", "夕日": "sunset", "草地": "field", "草原": "field", "田野": "field",
    "花园": "field", "公园": "field", "房间": "room", "室内": "room", "部屋": "room",
    "城市": "city", "都市": "city", "街道": "street", "街上": "street", "大海": "water",
    "海上": "water", "湖面": "water", "雪地": "snow", "雪景": "snow", "雪": "snow",
    "森林": "forest", "森": "forest", "树林": "forest", "沙漠": "desert", "砂漠": "desert",
    "太空": "space", "宇宙": "space", "水下": "underwater", "海底": "underwater",
    "海中": "underwater", "雨中": "rain", "下雨": "rain", "雨": "rain", "农场": "farm",
    "農場": "farm", "农家院": "farm", "门廊": "porch", "厨房": "kitchen", "台所": "kitchen",
    "キッチン": "kitchen", "工作室": "studio", "スタジオ": "studio",
}
KO_SCENES = {"해변": "beach", "바닷가": "beach", "밤": "night", "밤하늘": "night",
             "하늘": "sky", "노을": "sunset", "일몰": "sunset", "들판": "field", "초원": "field",
             "정원": "field", "공원": "field", "방": "room", "도시": "city", "거리": "street",
             "바다": "water", "호숫가": "water", "눈밭": "snow", "설원": "snow", "숲": "forest",
             "사막": "desert", "우주": "space", "수중": "underwater", "바닷속": "underwater",
             "빗속": "rain", "농장": "farm", "현관": "porch", "부엌": "kitchen",
             "주방": "kitchen", "스튜디오": "studio"}
KO_RELS = {"왼쪽": "left", "좌측": "left", "오른쪽": "right", "우측": "right", "위쪽": "above",
           "위": "above", "아래쪽": "below", "아래": "below", "밑": "below", "옆": "beside",
           "사이": "between", "주위": "around", "주변": "around", "둘레": "around",
           "안": "in", "속": "in", "앞": "front", "뒤": "behind", "상단": "top",
           "하단": "bottom", "가운데": "center", "중앙": "center", "한가운데": "center"}
KO_REL_TAILS = ("", "에", "에는", "에서", "쪽", "쪽에", "쪽에는", "의", "로", "으로", "편에", "편")
KO_SUBJECT_MARKS = ("이", "가", "은", "는")
KO_CONJ = ("와", "과", "하고", "이랑", "랑", "및", "그리고")
# Chinese/Japanese function words the reader needs.
CJK_MARKS = {"在": "subject", "位于": "subject", "が": "subject", "は": "subject",
             "的": "link", "之": "link", "の": "link", "和": "conj", "与": "conj", "與": "conj",
             "跟": "conj", "及": "conj", "以及": "conj", "还有": "conj", "と": "conj",
             "や": "conj", "、": "conj", "并且": "conj",
             "写着": "cue", "寫著": "cue", "写有": "cue", "印着": "cue", "标题": "cue",
             "标题为": "cue", "題為": "cue", "字样": "cue", "と書かれた": "cue",
             "と書いてある": "cue", "書かれた": "cue", "という文字": "cue", "タイトル": "cue",
             "叫做": "name", "名叫": "name", "名为": "name", "叫": "name", "という名前": "name",
             "中国": "skip", "中文": "skip", "日本": "skip", "日文": "skip", "上海": "skip",
             "以上": "skip", "以下": "skip", "一起": "skip", "一下": "skip", "一样": "skip",
             "中国风": "skip", "背景": "bg", "文字": "textword", "字体": "textword",
             "字": "textword", "颜色": "skip", "色の": "skip"}

# More Chinese/Japanese nouns (merged into CJK_NOUNS below).
_CJK_MORE = """
海鸥 seagull|鸽子 pigeon|麻雀 sparrow|乌鸦 crow|蝙蝠 bat|孔雀 peacock|火烈鸟 flamingo|蜻蜓 dragonfly
瓢虫 ladybug|萤火虫 firefly|海星 starfish|水母 jellyfish|海龟 sea turtle|虾 shrimp|龙虾 lobster
北极熊 polar bear|考拉 koala|鳄鱼 crocodile|河马 hippo|犀牛 rhino|羊驼 alpaca|驴 donkey|公鸡 rooster
母鸡 hen|仓鼠 hamster|鲤鱼 carp|狮 lion|豹 leopard|鸭子 duck|小鸭 duck|鹅 goose|蜗牛 snail
カモメ seagull|ハト pigeon|スズメ sparrow|カラス crow|コウモリ bat|クジャク peacock|フラミンゴ flamingo
トンボ dragonfly|テントウムシ ladybug|ホタル firefly|ヒトデ starfish|クラゲ jellyfish|エビ shrimp
ワニ crocodile|カバ hippo|サイ rhino|アルパカ alpaca|ロバ donkey|ニワトリ chicken|ハムスター hamster
鯉 carp|コイ carp|ヒヨコ chick|ひよこ chick|シカ deer|ラクダ camel|コアラ koala|カンガルー kangaroo
粽子 zongzi|汤圆 tangyuan|馒头 steamed bun|烤鸭 roast duck|火锅 hot pot|茶杯 teacup|酒杯 wine glass
热狗 hot dog|薯条 fries|牛排 steak|沙拉 salad|咖喱 curry|煎饼 pancake|松饼 muffin|甜筒 ice cream cone
棒棒糖 lollipop|柿子 persimmon|李子 plum|栗子 chestnut|核桃 walnut|花生 peanut|辣椒 chili pepper
茄子 eggplant|黄瓜 cucumber|白菜 cabbage|洋葱 onion|大蒜 garlic|饮料 drink|奶酪 cheese|香肠 sausage
天ぷら tempura|刺身 sashimi|焼き鳥 yakitori|たこ焼き takoyaki|お好み焼き okonomiyaki|餅 mochi
もち mochi|大福 daifuku|せんべい rice cracker|弁当 bento|お弁当 bento|味噌汁 miso soup|抹茶 matcha
柿 persimmon|栗 chestnut|メロン melon|キウイ kiwi|サクランボ cherry|梅 plum|そば soba|蕎麦 soba
カレー curry|ホットドッグ hot dog|ポテト fries|ステーキ steak|サラダ salad|パンケーキ pancake
キャンディ candy|飴 candy|チーズ cheese|ソーセージ sausage|ドリンク drink|紅茶 tea|緑茶 green tea
电风扇 fan|扇风机 fan|扇風機 fan|冰箱 refrigerator|冷蔵庫 refrigerator|洗衣机 washing machine
微波炉 microwave|电子レンジ microwave|收音机 radio|ラジオ radio|钢笔 pen|杂志 magazine|雑誌 magazine
报纸 newspaper|新聞 newspaper|信 letter|手紙 letter|邮票 stamp|切手 stamp|相框 photo frame
花盆 flower pot|植木鉢 flower pot|鸟笼 birdcage|枕头 pillow|枕 pillow|毛毯 blanket|毛布 blanket
地毯 rug|窗帘 curtain|カーテン curtain|垃圾桶 trash can|ゴミ箱 trash can|牙刷 toothbrush
歯ブラシ toothbrush|毛巾 towel|タオル towel|肥皂 soap|石鹸 soap|梳子 comb|手表 watch|腕時計 watch
戒指 ring|指輪 ring|项链 necklace|ネックレス necklace|耳环 earring|领带 tie|ネクタイ tie|裙子 skirt
スカート skirt|衬衫 shirt|シャツ shirt|外套 coat|コート coat|毛衣 sweater|セーター sweater|裤子 pants
ズボン pants|袜子 sock|靴下 sock|靴子 boot|ブーツ boot|拖鞋 slipper|运动鞋 sneaker|スニーカー sneaker
雨衣 raincoat|背包 backpack|リュック backpack|行李箱 suitcase|スーツケース suitcase|钱包 wallet
財布 wallet|口罩 mask|マスク mask|头盔 helmet|ヘルメット helmet|灯泡 light bulb|蜡笔 crayon
警车 police car|消防车 fire truck|救护车 ambulance|救急車 ambulance|消防車 fire truck|パトカー police car
地铁 subway train|地下鉄 subway train|高铁 train|游艇 yacht|ヨット sailboat|热气球 hot air balloon
気球 hot air balloon|滑板 skateboard|スケートボード skateboard|三轮车 tricycle|马车 carriage|雪橇 sled
ソリ sled|船只 boat|独木舟 canoe|カヌー canoe|潜水艦 submarine|飛行船 airship|UFO ufo
教堂 church|教会 church|学校 school|医院 hospital|病院 hospital|咖啡馆 cafe|カフェ cafe|小屋 hut
木屋 cabin|摩天轮 ferris wheel|観覧車 ferris wheel|长城 great wall|亭子 pavilion|烟囱 chimney
井 well|篝火 campfire|焚き火 campfire|路灯 street lamp|街灯 street lamp|红绿灯 traffic light
信号機 traffic light|邮筒 mailbox|长椅 bench|ベンチ bench|秋千 swing|ブランコ swing|城堡塔 tower
流星 shooting star|流れ星 shooting star|银河 galaxy|極光 aurora|极光 aurora|オーロラ aurora
瀑布 waterfall|滝 waterfall|池塘 pond|池 pond|云朵 cloud|冰 ice block|冰山 iceberg|氷山 iceberg
火 fire|火焰 flame|炎 flame|珊瑚 coral|サンゴ coral|海草 seaweed|荷叶 lotus leaf|雪だるま snowman
ろうそく candle|太陽 sun|お日さま sun|お月さま moon|星空 starry sky|花束 bouquet|ブーケ bouquet
"""
for _pair in _CJK_MORE.replace("\n", "|").split("|"):
    if _pair.strip():
        _k, _v = _pair.strip().split(" ", 1)
        CJK_NOUNS.setdefault(_k, _v)
CJK_SCENES.update({"海": "water", "水里": "water", "水中": "water", "水面": "water",
                   "湖": "water", "雪山": "snow", "竹林": "forest", "稻田": "field",
                   "田んぼ": "field", "山里": "mountain", "山の中": "mountain", "夜の": "night",
                   "星空": "night", "月夜": "night", "公園": "field", "庭": "field",
                   "ベランダ": "porch", "玄関": "porch", "教室": "room", "客厅": "room",
                   "卧室": "room", "寝室": "room", "リビング": "room", "街": "street",
                   "路上": "street", "海滩上": "beach", "沙滩上": "beach"})

_KO_MORE = """
갈매기 seagull|비둘기 pigeon|참새 sparrow|까마귀 crow|박쥐 bat|공작 peacock|홍학 flamingo
잠자리 dragonfly|무당벌레 ladybug|반딧불이 firefly|불가사리 starfish|해파리 jellyfish|새우 shrimp
바닷가재 lobster|악어 crocodile|하마 hippo|코뿔소 rhino|알파카 alpaca|당나귀 donkey|햄스터 hamster
잉어 carp|낙타 camel|코알라 koala|캥거루 kangaroo|북극곰 polar bear|거위 goose|수탉 rooster
떡볶이 tteokbokki|비빔밥 bibimbap|김치 kimchi|불고기 bulgogi|치킨 fried chicken|감 persimmon
호두 walnut|땅콩 peanut|고추 chili pepper|가지 eggplant|오이 cucumber|양파 onion|마늘 garlic
배추 cabbage|핫도그 hot dog|감자튀김 fries|스테이크 steak|샐러드 salad|카레 curry|팬케이크 pancake
머핀 muffin|막대사탕 lollipop|도시락 lunchbox|찌개 stew|김치찌개 kimchi stew|국 soup|수프 soup
치즈 cheese|소시지 sausage|음료 drink|레모네이드 lemonade|송편 songpyeon|붕어빵 fish bread
선풍기 fan|냉장고 refrigerator|세탁기 washing machine|전자레인지 microwave|라디오 radio|잡지 magazine
신문 newspaper|편지 letter|우표 stamp|액자 frame|화분 flower pot|새장 birdcage|베개 pillow
담요 blanket|이불 blanket|러그 rug|커튼 curtain|쓰레기통 trash can|칫솔 toothbrush|수건 towel
비누 soap|빗 comb|손목시계 watch|반지 ring|목걸이 necklace|귀걸이 earring|넥타이 tie|치마 skirt
셔츠 shirt|티셔츠 t-shirt|코트 coat|스웨터 sweater|바지 pants|양말 sock|부츠 boot|슬리퍼 slipper
운동화 sneaker|우비 raincoat|여행가방 suitcase|캐리어 suitcase|지갑 wallet|마스크 mask|헬멧 helmet
경찰차 police car|소방차 fire truck|구급차 ambulance|지하철 subway train|열기구 hot air balloon
스케이트보드 skateboard|썰매 sled|마차 carriage|카누 canoe|비행선 airship
교회 church|학교 school|병원 hospital|카페 cafe|오두막 hut|관람차 ferris wheel|굴뚝 chimney
우물 well|모닥불 campfire|가로등 street lamp|신호등 traffic light|우체통 mailbox|벤치 bench|그네 swing
유성 shooting star|별똥별 shooting star|은하수 galaxy|오로라 aurora|폭포 waterfall|연못 pond
빙산 iceberg|불 fire|불꽃 flame|모래 sand|산호 coral|해초 seaweed|꽃다발 bouquet|크레파스 crayon
"""
for _pair in _KO_MORE.replace("\n", "|").split("|"):
    if _pair.strip():
        _k, _v = _pair.strip().split(" ", 1)
        KO_NOUNS.setdefault(_k, _v)
# Single-character heads that end longer words the table lacks (购物袋 "shopping bag" -> bag).
for _k, _v in {"袋": "bag", "瓶": "bottle", "盒": "box", "杯": "cup", "盘": "plate",
               "篮": "basket", "桶": "bucket", "罐": "jar", "壶": "pot", "锅": "pot",
               "帽": "hat", "鞋": "shoe", "糕": "cake", "饼": "cookie", "糖": "candy",
               "屋": "house", "楼": "building", "椅": "chair", "桌": "table", "柜": "cabinet",
               "袋子": "bag", "购物袋": "shopping bag", "纸袋": "paper bag", "手提包": "handbag",
               "买物袋": "shopping bag", "ショッピングバッグ": "shopping bag", "紙袋": "paper bag",
               "쇼핑백": "shopping bag", "종이봉투": "paper bag"}.items():
    (KO_NOUNS if "\uac00" <= _k[0] <= "\ud7a3" else CJK_NOUNS).setdefault(_k, _v)
