"""Tokenizer throughput: raw fugashi vs zeta's Tokenizer, on ~20k realistic listing titles.

    python bench/tokenizer.py
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import fugashi

from zeta_serving.canary import CANARY_TITLES
from zeta_serving.tokenizer import Tokenizer, _dictionary_file_hashes

DATA = Path(__file__).resolve().parent.parent / "zeta_serving" / "data"
N_TITLES = 20_000
REPEAT_SHARE = 0.30  # marketplaces relist the same title over and over
ROUNDS = 3  # best of

DECOR = ["【新品未使用】", "【美品】", "【送料無料】", "★", "【即購入OK】", "", "", "", ""]
EXTRAS = ["ブラック", "ホワイト", "ネイビー", "ｸﾞﾚｰ", "Ｍ", "Ｌ", "XL", "26.5cm", "２７ｃｍ", "128GB",
          "まとめ売り", "正規品", "箱付き", "USED", "ジャンク", "未開封", "2023年製", "限定"]


def build_titles(seed: int = 42) -> list[str]:
    rng = random.Random(seed)
    brands = [b for b in (DATA / "brands.txt").read_text(encoding="utf-8").splitlines() if b.strip()]
    leaves = set()
    for row in (DATA / "categories.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        path = row.split("\t")[-1]
        leaves.update(path.split("/")[-2:])
    leaves = sorted(leaves)

    def fresh() -> str:
        parts = [rng.choice(DECOR), rng.choice(brands), rng.choice(leaves),
                 *rng.sample(EXTRAS, rng.randint(0, 3))]
        if rng.random() < 0.1:
            parts.append(f"{rng.choice('ABCDKSX')}{rng.choice('JKX-')}{rng.randint(10, 9999)}")
        return " ".join(p for p in parts if p)

    titles: list[str] = []
    for _ in range(N_TITLES):
        if titles and rng.random() < REPEAT_SHARE:
            titles.append(rng.choice(titles))
        elif rng.random() < 0.02:
            titles.append(rng.choice(CANARY_TITLES))
        else:
            titles.append(fresh())
    return titles


def best_rate(run, titles: list[str], before=None) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        if before:
            before()
        start = time.perf_counter()
        run(titles)
        best = min(best, time.perf_counter() - start)
    return len(titles) / best


def main() -> None:
    titles = build_titles()
    print(f"{len(titles)} titles, {len(set(titles))} distinct, best of {ROUNDS}\n")

    tagger = fugashi.Tagger()
    wakati = fugashi.Tagger("-Owakati")
    zeta = Tokenizer("unidic-lite")
    backend = zeta._backend
    backend.tokenize("warm up the tagger")

    rows = [
        ("raw fugashi (nodes)", best_rate(lambda ts: [[w.surface for w in tagger(t)] for t in ts], titles)),
        ("raw fugashi (wakati)", best_rate(lambda ts: [wakati.parse(t).split() for t in ts], titles)),
        ("zeta, no cache", best_rate(lambda ts: [backend._tokenize_uncached(t) for t in ts], titles)),
        ("zeta, cold cache", best_rate(zeta.tokenize_many, titles, before=backend.tokenize.cache_clear)),
        ("zeta, warm cache", best_rate(zeta.tokenize_many, titles)),
    ]
    baseline = rows[0][1]
    print(f"{'tokenizer':<22}{'titles/s':>12}{'vs raw':>9}")
    for name, rate in rows:
        print(f"{name:<22}{rate:>12,.0f}{rate / baseline:>8.2f}x")
    print("(zeta also normalizes: NFKC + lowercase + whitespace)\n")

    _dictionary_file_hashes.cache_clear()
    for label in ("first", "second"):
        start = time.perf_counter()
        zeta.fingerprint()
        print(f"fingerprint() {label} call: {(time.perf_counter() - start) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
