"""`zeta up --no-serve` on a fresh store, then the README's demo listings against its models.

  BENTOML_HOME=$(mktemp -d) python bench/demo.py [--db sqlite:////tmp/zeta-demo.db]

Prints `zeta up`'s score table, then per demo title the top-3 categories with their
probabilities and the price suggestion (name plus the first suggested category; the API's
default condition and shipping). tests/test_demo.py checks the same answers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zeta_serving import registry, tasks  # noqa: E402
from zeta_serving.cli import main as zeta  # noqa: E402
from zeta_serving.maintenance.ledger import Ledger  # noqa: E402
from zeta_serving.serving import schemas  # noqa: E402
from zeta_serving.store import ListingStore  # noqa: E402
from zeta_serving.synth_catalog import DEMO_TITLES  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=f"sqlite:///{tempfile.mkdtemp()}/zeta.db")
    args = ap.parse_args()
    try:
        zeta(["--db", args.db, "up", "--no-serve", "--retrain"])
    except SystemExit as exc:
        if exc.code:
            raise
    ledger = Ledger(ListingStore(args.db).engine)
    category, category_tag = registry.load(ledger.champion("category").tag)
    price, price_tag = registry.load(ledger.champion("price").tag)
    for title in DEMO_TITLES:
        top3 = tasks.get("category").predict(category, category_tag.tag, [schemas.CategoryListing(name=title, k=3)])[0]
        cats = top3.categories
        suggestion = tasks.get("price").predict(price, price_tag.tag, [schemas.PriceListing(name=title, category=cats[0].category)])[0]
        print(f"\n{title}\n  price ¥{suggestion.price:,.0f} (¥{suggestion.low:,.0f} - ¥{suggestion.high:,.0f})")
        for c in cats:
            print(f"  {c.probability:.2f}  {c.category}")


if __name__ == "__main__":
    main()
