"""The words the demo catalog is made of: a category tree, nouns, adjectives, phrases."""

from __future__ import annotations

# Russian adjectives agree with the noun: masculine, feminine, neuter.
ADJECTIVES: list[tuple[str, tuple[str, str, str]]] = [
    ("Electric", ("Электрический", "Электрическая", "Электрическое")),
    ("Ceramic", ("Керамический", "Керамическая", "Керамическое")),
    ("Wooden", ("Деревянный", "Деревянная", "Деревянное")),
    ("Compact", ("Компактный", "Компактная", "Компактное")),
    ("Steel", ("Стальной", "Стальная", "Стальное")),
    ("Vintage", ("Винтажный", "Винтажная", "Винтажное")),
    ("Wireless", ("Беспроводной", "Беспроводная", "Беспроводное")),
    ("Portable", ("Портативный", "Портативная", "Портативное")),
    ("Glass", ("Стеклянный", "Стеклянная", "Стеклянное")),
    ("Cotton", ("Хлопковый", "Хлопковая", "Хлопковое")),
    ("Leather", ("Кожаный", "Кожаная", "Кожаное")),
    ("Smart", ("Умный", "Умная", "Умное")),
    ("Classic", ("Классический", "Классическая", "Классическое")),
    ("Folding", ("Складной", "Складная", "Складное")),
    ("Bamboo", ("Бамбуковый", "Бамбуковая", "Бамбуковое")),
    ("Nordic", ("Северный", "Северная", "Северное")),
]
M, F, N = 0, 1, 2
# root (name, slug) -> children (name, slug, nouns: (English, Russian, gender))
TREE: list[tuple[str, str, list[tuple[str, str, list[tuple[str, str, int]]]]]] = [
    (
        "Kitchen",
        "kitchen",
        [
            ("Cookware", "cookware", [("frying pan", "сковорода", F), ("saucepan", "кастрюля", F)]),
            (
                "Small appliances",
                "small-appliances",
                [("kettle", "чайник", M), ("blender", "блендер", M), ("toaster", "тостер", M)],
            ),
            (
                "Tableware",
                "tableware",
                [("mug", "кружка", F), ("plate", "тарелка", F), ("vase", "ваза", F)],
            ),
            (
                "Coffee and tea",
                "coffee-and-tea",
                [("coffee grinder", "кофемолка", F), ("teapot", "заварочный чайник", M)],
            ),
        ],
    ),
    (
        "Home",
        "home",
        [
            (
                "Furniture",
                "furniture",
                [("armchair", "кресло", N), ("table", "стол", M), ("shelf", "полка", F)],
            ),
            ("Lighting", "lighting", [("lamp", "лампа", F), ("lantern", "фонарь", M)]),
            (
                "Textiles",
                "textiles",
                [("blanket", "одеяло", N), ("towel", "полотенце", N), ("pillow", "подушка", F)],
            ),
            ("Decor", "decor", [("mirror", "зеркало", N), ("candle", "свеча", F)]),
            ("Storage", "storage", [("basket", "корзина", F), ("box", "ящик", M)]),
        ],
    ),
    (
        "Electronics",
        "electronics",
        [
            ("Audio", "audio", [("speaker", "колонка", F), ("headphones", "наушники", M)]),
            (
                "Smart home",
                "smart-home",
                [("thermostat", "термостат", M), ("socket", "розетка", F)],
            ),
            ("Gadgets", "gadgets", [("charger", "зарядник", M), ("power bank", "аккумулятор", M)]),
        ],
    ),
    (
        "Outdoors",
        "outdoors",
        [
            ("Camping", "camping", [("tent", "палатка", F), ("thermos", "термос", M)]),
            ("Garden", "garden", [("watering can", "лейка", F), ("bench", "скамья", F)]),
            ("Cycling", "cycling", [("bike light", "велофонарь", M), ("saddle", "седло", N)]),
            (
                "Picnic",
                "picnic",
                [("cooler bag", "сумка-холодильник", F), ("picnic blanket", "плед", M)],
            ),
        ],
    ),
    (
        "Fashion",
        "fashion",
        [
            ("Bags", "bags", [("backpack", "рюкзак", M), ("bag", "сумка", F)]),
            (
                "Accessories",
                "fashion-accessories",
                [("wallet", "кошелёк", M), ("belt", "ремень", M), ("scarf", "шарф", M)],
            ),
            ("Footwear", "footwear", [("boot", "ботинок", M), ("slipper", "тапочка", F)]),
        ],
    ),
    (
        "Sports",
        "sports",
        [
            ("Fitness", "fitness", [("kettlebell", "гиря", F), ("jump rope", "скакалка", F)]),
            ("Yoga", "yoga", [("yoga mat", "коврик", M), ("yoga block", "блок", M)]),
            (
                "Running",
                "running",
                [("water bottle", "бутылка", F), ("armband", "чехол на руку", M)],
            ),
            ("Swimming", "swimming", [("towel", "полотенце", N), ("swim cap", "шапочка", F)]),
        ],
    ),
]
SERIES = ["", "", "", "Mini", "Pro", "Nord", "Lite", "2000", "Max", "Eco"]
USES_EN = [
    "for everyday use",
    "for a small flat",
    "for gifts",
    "for the country house",
    "for travel",
]
USES_RU = ["на каждый день", "для небольшой квартиры", "в подарок", "для дачи", "в дорогу"]
FEATURES_EN = [
    "Easy to clean.",
    "Two-year warranty.",
    "Made from recycled materials.",
    "Ships in plastic-free packaging.",
    "Designed in Tallinn, made in Portugal.",
    "Fits in a drawer when folded.",
]
FEATURES_RU = [
    "Легко моется.",
    "Гарантия 2 года.",
    "Из переработанных материалов.",
    "Упаковка без пластика.",
    "Сделано в Казани.",
    "Складывается и помещается в ящик.",
]
CUSTOMER_NAMES = [
    "Anna Ivanova",
    "Mikhail Petrov",
    "Sofia García",
    "Jonas Berg",
    "Олег Смирнов",
    "Marie Dubois",
    "Ольга Кузнецова",
    "Tom Baker",
]
