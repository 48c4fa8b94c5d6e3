"""How a synthetic listing is written: its attributes, title and description (`zeta_serving.synth`)."""

from __future__ import annotations

import bisect
import math
import random

import numpy as np

from zeta_serving import synth_catalog as C
from zeta_serving import synth_vocab as V
from zeta_serving.synth_coined import _coined
from zeta_serving.synth_world import CATALOG_NO_BRAND_FIELD, CONDITION_P, _Leaf, _model_codes, _World

# ---------------------------------------------------------------- generation

_BRACKET_CUM = list(np.cumsum([w for _, _, w in V.BRACKETS]) / sum(w for _, _, w in V.BRACKETS))
_COND_CUM = np.cumsum(CONDITION_P) / sum(CONDITION_P)


def _pick_surface(surfs: tuple[str, ...], r) -> str:
    return surfs[0] if len(surfs) == 1 or r() < 0.55 else surfs[1 + int(r() * (len(surfs) - 1))]


def _noun(level: tuple[tuple[str, ...], str], r) -> str:
    words, paren = level
    word = words[int(r() * len(words))]
    if word in V.SHORTENINGS and r() < 0.25:
        word = V.SHORTENINGS[word]
    if paren and r() < 0.5:
        word = f"{word} {paren}" if r() < 0.6 else f"{word}({paren})"
    return word


def _bracket(words: list[str], r) -> list[str]:
    o, c, _ = V.BRACKETS[bisect.bisect_right(_BRACKET_CUM, r())]
    if not o:
        return words
    if len(words) > 1 and r() < 0.5:
        return [o + "・".join(words) + c]
    return ["".join(o + w + c for w in words)]


class _Row:
    """What one listing is about, before it is written down."""

    __slots__ = ("brand", "latin", "series", "tags", "in_name", "in_desc", "cond_tag", "cond_where",
                 "bundle_text", "bundle_log")


def _attributes(w: _World, lf: _Leaf, b: int, new_brand: str, c: int, drifted: bool, coined, r) -> _Row:
    """Brand, product line and tags of a listing, and where each tag is written (name, description, nowhere)."""
    row = _Row()
    tags: list[str] = []
    in_name: dict[str, str] = {}
    in_desc: list[tuple[str, str]] = []

    def place(kind: str, surface: str, p_name: float) -> None:
        x = r()
        if x < p_name:
            in_name[kind] = surface
        elif x < p_name + (1.0 - p_name) * 0.6:
            in_desc.append((kind, surface))

    series = None
    if drifted:
        row.brand, row.latin = new_brand, None
        pool = coined.series[lf.top]
        series = pool[int(r() * r() * len(pool))]
    else:
        row.brand = w.brands[b] if b >= 0 else ""
        row.latin = w.brand_latin[b] if b >= 0 else None
        if b >= 0:
            if r() < 0.5:
                bs = w.brand_series[b]
                series = bs[int(r() * len(bs))]
        elif r() < 0.12:
            pool = w.top_series[lf.top]
            series = pool[int(r() * len(pool))]
    row.series = series
    if series:
        tags.append(series)
        place("series", series, 0.95 if drifted else 0.9)
    if lf.colour_p and r() < lf.colour_p:
        tag, surfs, _ = V.COLOURS[bisect.bisect_right(w.colour_cum, r() * w.colour_cum[-1])]
        tags.append(tag)
        place("colour", _pick_surface(surfs, r), 0.7)
    if lf.size_tags and r() < 0.7:
        tag = lf.size_tags[min(bisect.bisect_right(lf.size_cum, r()), len(lf.size_tags) - 1)]
        tags.append(tag)
        place("size", _pick_surface(V.SIZE_SURFACES[tag], r), 0.7)
    if lf.materials and r() < 0.35:
        tag = lf.materials[int(r() * len(lf.materials))]
        tags.append(tag)
        place("material", _pick_surface(V.MATERIALS[tag], r), 0.6)
    _condition_tag(row, c, tags, r)
    row.bundle_text, row.bundle_log = "", 0.0
    if r() < 0.07:
        k = 2 + int(r() * 4)
        x = r()
        row.bundle_text = f"{k}点セット" if x < 0.5 else f"{k}点まとめ" if x < 0.7 else "まとめ売り"
        row.bundle_log = 0.6 * math.log(k)
        tags.append(V.BUNDLE_TAG)
    if r() < 0.22 or not tags:
        feats = V.FEATURES[w.tops[lf.top]]
        feat = feats[int(r() * len(feats))]
        if feat not in tags:
            tags.append(feat)
            place("feature", feat, 0.55)
    row.tags, row.in_name, row.in_desc = tags[:5], in_name, in_desc
    return row


def _condition_tag(row: _Row, c: int, tags: list[str], r) -> None:
    ct = None
    if c == 1:
        ct = "新品未使用" if r() < 0.8 else None
    elif c == 2 or c == 3:
        ct = "美品" if r() < (0.5 if c == 2 else 0.25) else None
    elif c == 6:
        ct = "ジャンク" if r() < 0.7 else None
    row.cond_tag, row.cond_where = ct, 0  # 1: in the name, 2: in the description
    if ct:
        tags.append(ct)
        x = r()
        row.cond_where = 1 if x < 0.7 else 2 if x < 0.95 else 0


def _catalog_row(item: C.Item, c: int, r) -> _Row:
    """The _Row of a catalogue listing: its title core is already written (item.words)."""
    row = _Row()
    row.brand, row.latin, row.series, row.in_name, row.in_desc = item.brand, None, None, {}, []
    row.tags = list(item.tags)
    _condition_tag(row, c, row.tags, r)
    row.bundle_text, row.bundle_log = "", 0.0
    row.tags = row.tags[:5]
    return row


def _nouns(lf: _Leaf, word: str | None, r) -> list[str]:
    """The item nouns: the leaf's words and often its parent's; under drift, the leaf's coined word."""
    if word is not None:
        return [word, _noun(lf.levels[1], r)] if len(lf.levels) > 1 and r() < 0.1 else [word]
    levels = lf.levels
    nouns = [_noun(levels[0], r)]
    if len(levels) > 1 and r() < lf.p_parent:
        nouns.append(_noun(levels[1], r))
    for lv in levels[2:4]:
        if r() < 0.22:
            nouns.append(_noun(lv, r))
    if len(nouns) > 1:
        nouns = list(dict.fromkeys(nouns))
        if r() < 0.5:
            nouns.reverse()
    return nouns


def _prefix(row: _Row, c: int, s: int, r) -> list[str]:
    """Condition and promotion words that sellers put in brackets before or after the title."""
    pre: list[str] = []
    if row.cond_where == 1:
        pre.append(_pick_surface(V.CONDITION_TAGS[row.cond_tag], r))
    elif r() < 0.3:
        cw = V.COND_NAME_WORDS[c]
        pre.append(cw[int(r() * len(cw))])
    if r() < 0.25:
        pre.append(V.SHIP_PROMO if s and r() < 0.5 else V.PROMO_WORDS[int(r() * len(V.PROMO_WORDS))])
    return pre


def _name(row: _Row, lf: _Leaf, nouns: list[str], c: int, s: int, r) -> str:
    pre = _prefix(row, c, s, r)
    parts: list[str] = []
    brand, latin, in_name = row.brand, row.latin, row.in_name
    if brand and r() < 0.85:
        parts.append((latin if r() < 0.6 else latin.title()) if latin and r() < 0.18 else brand)
    if "series" in in_name:
        parts.append(row.series)
    parts.append("".join(nouns) if len(nouns) == 2 and r() < 0.25 else " ".join(nouns))
    if brand and r() < lf.model_p:
        parts.append(_model_codes(brand)[int(r() * 4)])
    attrs = [in_name[k] for k in (("colour", "size", "material") if r() < 0.5 else ("material", "colour", "size"))
             if k in in_name]
    if row.bundle_text:
        attrs.append(row.bundle_text)
    if "feature" in in_name:
        attrs.append(f"【{in_name['feature']}】" if r() < 0.4 else in_name["feature"])
    parts = attrs + parts if r() < 0.12 else parts + attrs
    return _finish(parts, pre, s, r)


def _finish(parts: list[str], pre: list[str], s: int, r) -> str:
    if pre:
        shown = _bracket(pre, r)
        parts = parts + shown if r() < 0.15 else shown + parts
    if r() < 0.1:
        word = V.SHIP_PROMO if s and r() < 0.4 else V.PROMO_WORDS[int(r() * 3)]
        if word not in pre:
            parts.append(word)
    x = r()
    name = ("　" if x < 0.08 else "/" if x < 0.11 else " ").join(parts)
    x = r()
    if x < 0.04:
        name = name.translate(V.HALF_KANA)
    elif x < 0.08:
        name = name.translate(V.FULL_ASCII)
    if C.title_key(name) in C.HELD_OUT_TITLES:
        name += " " + V.CLOSING_WORD
    return name


def _description(row: _Row, lf: _Leaf, noun: str, c: int, r) -> str:
    """1-4 sentences: greeting, the item, attributes not in the name, condition, home, closing."""
    joiner = "\n" if r() < 0.5 else ""
    core: list[tuple[float, str]] = []
    if row.in_desc:
        labels = V.ATTR_LABELS
        if joiner and r() < 0.6:  # spec lines ("カラー：ブラック") need line breaks
            core.append((2, "\n".join(f"{labels[k][0]}：{v}" for k, v in row.in_desc)))
        else:
            core.append((2, "、".join(f"{labels[k][int(r() * len(labels[k]))]}は{v}" for k, v in row.in_desc)
                         + "です。"))
    neutral, with_tag = V.COND_SENTENCES[c]
    if row.cond_where == 2 and with_tag:
        core.append((2.5, with_tag[int(r() * len(with_tag))]))
    elif r() < 0.85:
        core.append((2.5, neutral[int(r() * len(neutral))]))
    extras: list[tuple[float, str]] = []
    if r() < 0.45:
        extras.append((0, V.GREETINGS[int(r() * len(V.GREETINGS))]))
    if r() < 0.3:
        tmpl = V.ITEM_BRAND if row.brand else V.ITEM_PLAIN
        extras.append((1, tmpl[int(r() * len(tmpl))].format(brand=row.brand, noun=noun)))
    if lf.apparel and r() < 0.25:
        extras.append((3, V.SIZE_FEEL[int(r() * len(V.SIZE_FEEL))]))
    if r() < 0.3:
        extras.append((4, V.HOME[int(r() * len(V.HOME))]))
    if r() < 0.3:
        extras.append((5, V.CLOSING[int(r() * len(V.CLOSING))]))
    sentences = [x for _, x in sorted(core + extras[:max(0, 4 - len(core))])]
    return joiner.join(sentences or [neutral[int(r() * len(neutral))]])


def _rows(w: _World, leaf: list[int], brand: list[int], new_brand: list[str], cond: list[int], ship: list[int],
          drifted: list[bool], catalog: list[int], py: random.Random):
    """Names, descriptions, brand strings, tags, log bundle size; leaf and log price of catalogue rows."""
    r = py.random
    coined = _coined() if any(drifted) else None
    names, descs, brands_out, tags_out, bundle_out = [], [], [], [], []
    items: dict[int, C.Item] = {}
    for i, (li, b, nb, c, s, dr, k) in enumerate(zip(leaf, brand, new_brand, cond, ship, drifted, catalog)):
        if k >= 0 and not dr:
            item = items[i] = C.draw(C.LINES[k], r, w.surface_tags)
            row = _catalog_row(item, c, r)
            names.append(_finish(item.words, _prefix(row, c, s, r), s, r))
            descs.append(_description(row, w.leaves[w.leaf_index[item.leaf]], item.noun, c, r))
            # sellers often skip the brand field when the title already names the brand
            brands_out.append("" if r() < CATALOG_NO_BRAND_FIELD else row.brand)
            tags_out.append(row.tags)
            bundle_out.append(0.0)
            continue
        lf = w.leaves[li]
        row = _attributes(w, lf, b, nb, c, dr, coined, r)
        nouns = _nouns(lf, coined.leaf_word[li] if dr else None, r)
        names.append(_name(row, lf, nouns, c, s, r))
        descs.append(_description(row, lf, nouns[0], c, r))
        brands_out.append(row.brand)
        tags_out.append(row.tags)
        bundle_out.append(row.bundle_log)
    return names, descs, brands_out, tags_out, bundle_out, items
