"""English listings in the Kaggle Mercari layout: a second, structurally different stand-in.

The real `train.tsv` of the Mercari Price Suggestion Challenge is not in this repository and
nothing may be downloaded, so the quality benchmark also runs on this generator. It shares no
code or vocabulary with `zeta_serving.synth`, and it is built the way US listings look:
English words split by spaces, the Kaggle three-level category tree ("Women/Tops & Blouses/
T-Shirts"), USD prices with many $10-20 items, brand names left empty in ~40% of rows,
"No description yet" in ~30% of descriptions, and prices driven by *interactions*
(a brand is premium in one category and cheap in another, condition matters for electronics
and little for t-shirts, a storage size prices a phone and nothing else, "lot of 5" multiplies,
"NWT" adds) - the kind of structure sparse MLPs exploit on the real data and a single linear
model cannot. What this generator cannot show is the real vocabulary's long tail and noise.

    from bench.kaggle_synth import generate
    frame = generate(rows=200_000, seed=0)   # columns of zeta_serving.schema, USD, undated order = time
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from zeta_serving.schema import COLUMNS

# category -> (log base price USD, how much condition matters, item nouns)
CATEGORIES = {
    "Women/Tops & Blouses/T-Shirts": (2.4, 0.3, ("tee", "t-shirt", "graphic tee", "top")),
    "Women/Tops & Blouses/Blouse": (2.6, 0.3, ("blouse", "top", "shirt")),
    "Women/Athletic Apparel/Pants, Tights, Leggings": (2.9, 0.4, ("leggings", "yoga pants", "tights", "joggers")),
    "Women/Dresses/Knee-Length": (3.0, 0.4, ("dress", "midi dress", "sundress")),
    "Women/Jeans/Slim, Skinny": (3.0, 0.4, ("jeans", "skinny jeans", "denim")),
    "Women/Shoes/Athletic": (3.6, 0.6, ("sneakers", "running shoes", "trainers")),
    "Women/Shoes/Boots": (3.7, 0.6, ("boots", "ankle boots", "booties")),
    "Women/Women's Handbags/Shoulder Bag": (3.8, 0.7, ("purse", "shoulder bag", "handbag", "bag")),
    "Women/Women's Accessories/Wallets": (3.3, 0.6, ("wallet", "wristlet", "card holder")),
    "Women/Jewelry/Necklaces": (3.0, 0.5, ("necklace", "pendant", "choker")),
    "Women/Underwear/Bras": (2.8, 0.5, ("bra", "bralette", "push up bra")),
    "Women/Swimwear/Two-Piece": (2.9, 0.4, ("bikini", "swimsuit", "bikini set")),
    "Men/Tops/T-shirts": (2.5, 0.3, ("tee", "t-shirt", "shirt")),
    "Men/Shoes/Athletic": (3.9, 0.6, ("sneakers", "shoes", "basketball shoes")),
    "Men/Sweats & Hoodies/Hoodie": (3.2, 0.4, ("hoodie", "sweatshirt", "pullover")),
    "Men/Coats & Jackets/Flight/Bomber": (3.7, 0.5, ("jacket", "bomber jacket", "coat")),
    "Beauty/Makeup/Face": (2.7, 0.9, ("foundation", "concealer", "powder", "highlighter")),
    "Beauty/Makeup/Lips": (2.5, 0.9, ("lipstick", "liquid lipstick", "lip gloss", "lip kit")),
    "Beauty/Makeup/Eyes": (2.8, 0.9, ("eyeshadow palette", "mascara", "eyeliner", "palette")),
    "Beauty/Skin Care/Face": (2.9, 0.9, ("moisturizer", "serum", "cleanser", "face mask")),
    "Beauty/Fragrance/Women": (3.4, 0.8, ("perfume", "eau de parfum", "body mist")),
    "Kids/Girls 2T-5T/Tops & T-Shirts": (2.3, 0.3, ("top", "tee", "shirt")),
    "Kids/Boys 0-24 Mos/One-Pieces": (2.2, 0.3, ("onesie", "bodysuit", "romper")),
    "Kids/Toys/Dolls & Accessories": (2.8, 0.5, ("doll", "dollhouse", "doll clothes")),
    "Kids/Toys/Action Figures & Statues": (2.9, 0.5, ("figure", "action figure", "figurine")),
    "Electronics/Cell Phones & Accessories/Cell Phones & Smartphones": (5.0, 1.4, ("phone", "smartphone", "")),
    "Electronics/Cell Phones & Accessories/Cases, Covers & Skins": (2.2, 0.3, ("case", "phone case", "cover")),
    "Electronics/Video Games & Consoles/Games": (2.8, 0.5, ("game", "video game", "")),
    "Electronics/Video Games & Consoles/Consoles": (5.1, 1.2, ("console", "system", "bundle")),
    "Electronics/Computers & Tablets/iPad/Tablet/eBook Reader": (5.0, 1.3, ("tablet", "ipad", "")),
    "Electronics/Cameras & Photography/Digital Cameras": (5.0, 1.2, ("camera", "digital camera", "dslr")),
    "Electronics/Audio/Headphones": (3.6, 1.0, ("headphones", "earbuds", "earphones")),
    "Home/Home Décor/Home Décor Accents": (2.9, 0.4, ("sign", "decor", "mug", "canister")),
    "Home/Kitchen & Dining/Coffee & Tea Accessories": (2.8, 0.5, ("mug", "tumbler", "coffee mug")),
    "Home/Bedding/Quilts": (3.5, 0.5, ("quilt", "comforter", "blanket")),
    "Vintage & Collectibles/Collectibles/Figurines": (3.0, 0.5, ("funko pop", "figure", "pop vinyl")),
    "Vintage & Collectibles/Trading Cards/Sports": (2.6, 0.6, ("card", "rookie card", "cards")),
    "Other/Books/Children's Books": (2.3, 0.4, ("book", "books", "board book")),
    "Sports & Outdoors/Exercise/Fitness accessories": (2.9, 0.5, ("resistance bands", "yoga mat", "weights")),
    "Handmade/Jewelry/Bracelets": (2.4, 0.3, ("bracelet", "beaded bracelet", "bangle")),
}
# brand -> (categories it sells in with its log premium there, title words it brings)
BRANDS = {
    "PINK": ({"Women/Tops & Blouses/T-Shirts": 0.2, "Women/Athletic Apparel/Pants, Tights, Leggings": 0.1,
              "Women/Underwear/Bras": 0.1, "Men/Sweats & Hoodies/Hoodie": 0.2}, ("vs pink", "pink")),
    "Victoria's Secret": ({"Women/Underwear/Bras": 0.3, "Women/Swimwear/Two-Piece": 0.3,
                           "Beauty/Fragrance/Women": 0.0}, ("victoria's secret", "vs")),
    "Nike": ({"Women/Shoes/Athletic": 0.2, "Men/Shoes/Athletic": 0.3, "Men/Tops/T-shirts": 0.2,
              "Women/Athletic Apparel/Pants, Tights, Leggings": 0.2, "Men/Sweats & Hoodies/Hoodie": 0.2},
             ("nike", "air max", "air jordan", "dri-fit", "roshe")),
    "Adidas": ({"Women/Shoes/Athletic": 0.1, "Men/Shoes/Athletic": 0.2, "Men/Sweats & Hoodies/Hoodie": 0.1},
               ("adidas", "ultraboost", "superstar", "nmd")),
    "Lululemon": ({"Women/Athletic Apparel/Pants, Tights, Leggings": 0.9, "Women/Tops & Blouses/T-Shirts": 0.7},
                  ("lululemon", "lulu", "align", "wunder under")),
    "LuLaRoe": ({"Women/Athletic Apparel/Pants, Tights, Leggings": 0.1, "Women/Dresses/Knee-Length": 0.2,
                 "Women/Tops & Blouses/T-Shirts": 0.1}, ("lularoe", "llr", "tc leggings", "os leggings", "irma")),
    "Michael Kors": ({"Women/Women's Handbags/Shoulder Bag": 0.6, "Women/Women's Accessories/Wallets": 0.5},
                     ("michael kors", "mk", "jet set", "selma")),
    "Coach": ({"Women/Women's Handbags/Shoulder Bag": 0.8, "Women/Women's Accessories/Wallets": 0.6},
              ("coach", "signature", "legacy")),
    "Louis Vuitton": ({"Women/Women's Handbags/Shoulder Bag": 2.4, "Women/Women's Accessories/Wallets": 1.9},
                      ("louis vuitton", "lv", "neverfull", "monogram", "speedy")),
    "Kendra Scott": ({"Women/Jewelry/Necklaces": 0.8}, ("kendra scott", "elisa", "rae")),
    "Apple": ({"Electronics/Cell Phones & Accessories/Cell Phones & Smartphones": 0.6,
               "Electronics/Computers & Tablets/iPad/Tablet/eBook Reader": 0.4, "Electronics/Audio/Headphones": 0.8,
               "Electronics/Cell Phones & Accessories/Cases, Covers & Skins": 0.3},
              ("apple", "iphone 6", "iphone 7", "iphone 7 plus", "iphone 8", "airpods", "ipad air", "ipad mini")),
    "Samsung": ({"Electronics/Cell Phones & Accessories/Cell Phones & Smartphones": 0.2,
                 "Electronics/Computers & Tablets/iPad/Tablet/eBook Reader": -0.2},
                ("samsung", "galaxy s7", "galaxy s8", "galaxy tab")),
    "OtterBox": ({"Electronics/Cell Phones & Accessories/Cases, Covers & Skins": 0.5}, ("otterbox", "defender")),
    "Beats": ({"Electronics/Audio/Headphones": 0.9}, ("beats", "beats solo", "powerbeats")),
    "Nintendo": ({"Electronics/Video Games & Consoles/Consoles": 0.1, "Electronics/Video Games & Consoles/Games": 0.4},
                 ("nintendo", "switch", "3ds", "mario", "zelda")),
    "Sony": ({"Electronics/Video Games & Consoles/Consoles": 0.1, "Electronics/Video Games & Consoles/Games": 0.0,
              "Electronics/Cameras & Photography/Digital Cameras": 0.2}, ("sony", "ps4", "playstation 4", "cyber-shot")),
    "Canon": ({"Electronics/Cameras & Photography/Digital Cameras": 0.4}, ("canon", "eos rebel", "powershot")),
    "MAC": ({"Beauty/Makeup/Lips": 0.3, "Beauty/Makeup/Face": 0.4}, ("mac", "ruby woo", "studio fix")),
    "Too Faced": ({"Beauty/Makeup/Eyes": 0.5, "Beauty/Makeup/Face": 0.3}, ("too faced", "sweet peach", "better than sex")),
    "Urban Decay": ({"Beauty/Makeup/Eyes": 0.6}, ("urban decay", "naked", "naked heat")),
    "Kylie Cosmetics": ({"Beauty/Makeup/Lips": 0.6}, ("kylie", "lip kit", "kylie cosmetics")),
    "Tarte": ({"Beauty/Makeup/Face": 0.4, "Beauty/Makeup/Eyes": 0.3}, ("tarte", "shape tape", "tartelette")),
    "Bath & Body Works": ({"Beauty/Fragrance/Women": -0.7, "Home/Home Décor/Home Décor Accents": -0.2},
                          ("bath and body works", "bbw", "3 wick candle")),
    "Rae Dunn": ({"Home/Kitchen & Dining/Coffee & Tea Accessories": 0.4, "Home/Home Décor/Home Décor Accents": 0.5},
                 ("rae dunn", "canister", "mug")),
    "Funko": ({"Vintage & Collectibles/Collectibles/Figurines": 0.0, "Kids/Toys/Action Figures & Statues": 0.0},
              ("funko", "pop", "vaulted", "chase")),
    "Carter's": ({"Kids/Boys 0-24 Mos/One-Pieces": 0.0, "Kids/Girls 2T-5T/Tops & T-Shirts": 0.0}, ("carters", "carter's")),
    "Disney": ({"Kids/Toys/Dolls & Accessories": 0.2, "Kids/Girls 2T-5T/Tops & T-Shirts": 0.2,
                "Vintage & Collectibles/Collectibles/Figurines": 0.3}, ("disney", "frozen", "elsa", "mickey")),
    "American Eagle": ({"Women/Jeans/Slim, Skinny": 0.1, "Men/Tops/T-shirts": 0.0}, ("american eagle", "ae", "aeo")),
    "Forever 21": ({"Women/Dresses/Knee-Length": -0.3, "Women/Tops & Blouses/Blouse": -0.3}, ("forever 21", "f21")),
    "UGG": ({"Women/Shoes/Boots": 0.7}, ("ugg", "uggs", "classic short")),
    "The North Face": ({"Men/Coats & Jackets/Flight/Bomber": 0.7}, ("north face", "tnf", "denali")),
    "Supreme": ({"Men/Sweats & Hoodies/Hoodie": 1.3, "Men/Tops/T-shirts": 1.0}, ("supreme", "box logo", "bogo")),
}
COLOURS = ("black", "white", "pink", "navy", "grey", "red", "blue", "green", "maroon", "rose gold", "nude", "camo")
SIZES = ("xs", "small", "medium", "large", "xl", "size 7", "size 8", "size 9", "size 10", "os", "tc", "2t", "4t")
# title words that move the price the same way everywhere
PRICE_WORDS = (("nwt", 0.35), ("bnwt", 0.35), ("new with tags", 0.35), ("brand new", 0.25), ("authentic", 0.3),
               ("sealed", 0.3), ("rare", 0.25), ("htf", 0.2), ("euc", 0.0), ("gently used", -0.1), ("read", -0.5),
               ("broken", -1.0), ("for parts", -1.2), ("free ship", 0.1))
# model-like words priced within a category only (storage sizes, sets)
STORAGE = (("16gb", -0.4), ("32gb", -0.2), ("64gb", 0.1), ("128gb", 0.35), ("256gb", 0.55))
CARRIER = (("unlocked", 0.25), ("verizon", 0.0), ("at&t", -0.05), ("sprint", -0.15), ("icloud locked", -1.6))
PHONE_LIKE = ("Electronics/Cell Phones & Accessories/Cell Phones & Smartphones",
              "Electronics/Computers & Tablets/iPad/Tablet/eBook Reader")
DESC_WORDS = ("worn once", "great condition", "smoke free home", "pet free home", "no flaws", "small stain",
              "ships fast", "bundle to save", "price firm", "open to offers", "true to size", "runs small",
              "100% authentic", "comes with box", "no box", "tags attached", "minor scratches", "works perfectly")
SHIP_COST = {"Women": 5.0, "Men": 6.0, "Beauty": 3.5, "Kids": 5.0, "Electronics": 9.0, "Home": 8.0,
             "Vintage & Collectibles": 5.0, "Other": 4.0, "Sports & Outdoors": 7.0, "Handmade": 3.5}
CONDITION_LOG = (0.25, 0.05, 0.0, -0.35, -0.9)  # item_condition_id 1..5, scaled by the category's sensitivity


def generate(rows: int, seed: int = 0) -> pd.DataFrame:
    """`rows` listings in file order (the loader spreads undated rows in that order: order is time)."""
    rng = np.random.default_rng(seed)
    cats = list(CATEGORIES)
    cat_w = 1.0 / (np.arange(len(cats)) + 2.0) ** 0.7
    cat_w = rng.permutation(cat_w)
    cat = rng.choice(len(cats), rows, p=cat_w / cat_w.sum())
    sellers_of = {c: [b for b, (where, _) in BRANDS.items() if c in where] for c in cats}
    out = {k: [] for k in ("name", "description", "brand", "condition", "shipping", "category", "price")}
    u = rng.random((rows, 16))
    cond = rng.choice(5, rows, p=[0.43, 0.25, 0.29, 0.02, 0.01]) + 1
    noise = rng.normal(0, 0.25, rows)
    for i in range(rows):
        c = cats[cat[i]]
        base, cond_weight, nouns = CATEGORIES[c]
        logp = base + cond_weight * CONDITION_LOG[cond[i] - 1] + noise[i]
        words = []
        brand = ""
        sellers = sellers_of[c]
        if sellers and u[i, 0] < 0.62:
            brand = sellers[int(u[i, 1] * len(sellers))]
            where, brand_words = BRANDS[brand]
            logp += where[c]
            words.append(brand_words[int(u[i, 2] * len(brand_words))])
            if u[i, 3] < 0.4:
                words.append(brand_words[int(u[i, 4] * len(brand_words))])
        noun = nouns[int(u[i, 5] * len(nouns))]
        if noun:
            words.append(noun)
        if c in PHONE_LIKE:
            for table in (STORAGE, CARRIER):
                word, delta = table[int(u[i, 6] * len(table))]
                logp += delta
                if u[i, 7] < 0.85:
                    words.append(word)
        if u[i, 8] < 0.35:
            words.insert(0 if u[i, 9] < 0.3 else len(words), COLOURS[int(u[i, 10] * len(COLOURS))])
        if c.startswith(("Women/", "Men/", "Kids/")) and u[i, 11] < 0.4:
            words.append(SIZES[int(u[i, 12] * len(SIZES))])
        if u[i, 13] < 0.3:
            word, delta = PRICE_WORDS[int(u[i, 14] * len(PRICE_WORDS))]
            logp += delta
            words.insert(0, word) if u[i, 14] < 0.5 else words.append(word)
        if any(w in ("broken", "for parts", "icloud locked") for w in words):
            logp = min(logp, base - 0.5)  # a broken phone is worth its parts, whatever its brand
        if u[i, 15] < 0.06:  # lots: "lot of 4" / "bundle" multiplies, sub-linearly
            k = 2 + int(u[i, 15] * 100) % 8
            logp += (0.8 if base < 3.0 else 0.3) * math.log(k)  # lots of cheap things add up, of dear ones less
            words.append(f"lot of {k}" if k % 2 else f"bundle of {k}")
        shipping = int(rng.random() < (0.7 if logp < 2.6 else 0.35))  # cheap items ship free more often
        name = " ".join(words) if rng.random() < 0.5 else " ".join(w.title() for w in words)
        if rng.random() < 0.3:
            desc = "No description yet"
        else:
            picked = rng.choice(len(DESC_WORDS), 1 + int(rng.integers(0, 4)), replace=False)
            desc = ". ".join(DESC_WORDS[j] for j in picked) + "."
        out["name"].append(name[:80])
        out["description"].append(desc)
        out["brand"].append(brand)
        out["condition"].append(int(cond[i]))
        out["shipping"].append(shipping)
        out["category"].append(c if rng.random() > 0.004 else "")
        # "free shipping" puts the parcel's cost, a fixed few dollars by size, into the price
        out["price"].append(float(max(3.0, round(math.exp(logp) + shipping * SHIP_COST[c.split("/")[0]]))))
    frame = pd.DataFrame(out)
    frame.insert(0, "id", [f"kaggle-{seed}-{i}" for i in range(rows)])
    frame["currency"] = "USD"
    frame["tags"] = [[] for _ in range(rows)]
    # undated rows get a time by file order, as `zeta load --format mercari-kaggle` does
    frame["listed_at"] = pd.date_range("2026-01-01", periods=rows, freq=pd.Timedelta(days=30) / max(rows, 1), tz="UTC")
    return frame[COLUMNS]


def _category_prior(seed: int) -> np.ndarray:
    # the first draw of `generate`'s generator: the categories' shares, in CATEGORIES order
    cat_w = np.random.default_rng(seed).permutation(1.0 / (np.arange(len(CATEGORIES)) + 2.0) ** 0.7)
    return cat_w / cat_w.sum()


def category_traces(seed: int = 0):
    """p(category, trace) for every trace: (brand, item noun, whether the phone words are written,
    whether a size is), one array over CATEGORIES each, from `generate`'s own draws.

    The trace is all a listing's name and brand say about its category: every other word of the
    name (colour, price word, lot, the brand's own words given the brand, case) is drawn the same
    way whatever the category. So no model that reads the name and brand can beat the Bayes rule
    on the trace, and `category_ceiling` bounds their accuracy from above."""
    cats, prior = list(CATEGORIES), _category_prior(seed)
    sellers = [[b for b, (where, _) in BRANDS.items() if c in where] for c in cats]
    nouns = sorted({n for _, _, ns in CATEGORIES.values() for n in ns})
    phone = [c in PHONE_LIKE for c in cats]
    sized = [c.startswith(("Women/", "Men/", "Kids/")) for c in cats]
    for brand, noun, phone_words, size in itertools.product([""] + list(BRANDS), nouns, (False, True), (False, True)):
        joint = np.zeros(len(cats))
        for i, c in enumerate(cats):
            if sellers[i]:
                p_brand = 0.38 if brand == "" else (0.62 / len(sellers[i]) if brand in sellers[i] else 0.0)
            else:
                p_brand = 1.0 if brand == "" else 0.0
            item_nouns = CATEGORIES[c][2]
            p_noun = item_nouns.count(noun) / len(item_nouns)
            # a phone's storage and carrier words: both written (one draw, p 0.85) or neither
            p_phone = (0.85 if phone_words else 0.15) if phone[i] else float(not phone_words)
            p_size = (0.4 if size else 0.6) if sized[i] else float(not size)
            joint[i] = prior[i] * p_brand * p_noun * p_phone * p_size
        yield (brand, noun, phone_words, size), joint


def category_ceiling(seed: int = 0) -> float:
    """The Bayes-optimal accuracy@1 of a category model on this generator's name and brand."""
    return float(sum(joint.max() for _, joint in category_traces(seed)))


def write_tsv(frame: pd.DataFrame, path: str) -> None:
    """The Kaggle `train.tsv` columns, for `zeta load --format mercari-kaggle`."""
    pd.DataFrame({
        "train_id": range(len(frame)), "name": frame["name"], "item_condition_id": frame["condition"].clip(1, 5),
        "category_name": frame["category"], "brand_name": frame["brand"], "price": frame["price"],
        "shipping": frame["shipping"], "item_description": frame["description"],
    }).to_csv(path, sep="\t", index=False)
