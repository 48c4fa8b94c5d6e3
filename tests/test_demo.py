"""The demo convinces: on the default synthetic store of `zeta up`, everyday listings get
plausible answers (the right leaf among the top 3, a price within real used-price ranges).

Nothing here is hard-coded into the generator: the answers come from the market knowledge of
`zeta_serving.synth_catalog` (which brand sells what, at what price) as the models learn it
from the listings, and none of these titles occurs in the training data as written.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from zeta_serving import registry, synth_catalog, tasks
from zeta_serving.serving import schemas
from zeta_serving.store import ListingStore
from zeta_serving.synth_catalog import title_key

pytestmark = pytest.mark.usefixtures("forget_module_models")

# title, a word of the leaf that must be among the top 3, the price range (yen) or None
DEMO = [
    ("ルイヴィトン 長財布 モノグラム", "長財布", (20_000, 80_000)),
    ("iPhone 13 128GB ミッドナイト SIMフリー", "スマートフォン本体", (40_000, 90_000)),
    ("Nintendo Switch 有機ELモデル ホワイト 本体", "本体(有機ELモデル)", (20_000, 40_000)),
    ("ポケモンカード ピカチュウ プロモ", "ポケモンカードゲーム", None),
    ("ユニクロ ウルトラライトダウン M ネイビー", "ダウンジャケット", (1_000, 5_000)),
    ("無印良品 ポリプロピレン 収納ケース", "収納ケース", None),
    ("ナイキ エアフォース1 27cm", "スニーカー", None),
    ("ディズニー ぬいぐるみ ダッフィー", "ぬいぐるみ", None),
]


def test_the_demo_titles_are_the_ones_the_generator_holds_out():
    assert {title_key(t) for t, _, _ in DEMO} == synth_catalog.HELD_OUT_TITLES


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    """The store `zeta up` seeds (its default days, rows per day and seed, ending today) and the
    price and category models it trains on it, the same way (`train_task` with its defaults)."""
    from zeta_serving import synth
    from zeta_serving.cli.up_cmd import up as up_command
    from zeta_serving.trainer import train_task

    defaults = {p.name: p.default for p in up_command.params}
    store = ListingStore(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'zeta.db'}")
    start = date.today() - timedelta(days=defaults["days"])
    for frame in synth.generate(start, defaults["days"], defaults["rows_per_day"], seed=defaults["seed"]):
        store.insert(frame)
    models = {task: registry.load(train_task(store, task).saved.tag) for task in ("price", "category")}
    return store, models


def test_demo_titles_are_not_in_the_training_data(up):
    store, _ = up
    span = store.time_range()
    names = {title_key(n) for n in store.window(span[0], span[1] + __import__("pandas").Timedelta(seconds=1))["name"]}
    assert len(names) > 40_000
    assert not [title for title, _, _ in DEMO if title_key(title) in names]


@pytest.mark.parametrize("title, leaf_word, price_range", DEMO, ids=[d[0] for d in DEMO])
def test_demo_listing_gets_a_plausible_answer(up, title, leaf_word, price_range):
    _, models = up
    model, saved = models["category"]
    top3 = tasks.get("category").predict(model, saved.tag, [schemas.CategoryListing(name=title, k=3)])[0].categories
    assert any(leaf_word in c.category for c in top3), [c.category for c in top3]
    if price_range is None:
        return
    # the seller takes the first suggested category; condition and shipping keep the API's defaults
    model, saved = models["price"]
    listing = schemas.PriceListing(name=title, category=top3[0].category)
    suggestion = tasks.get("price").predict(model, saved.tag, [listing])[0]
    low, high = price_range
    assert low <= suggestion.price <= high, suggestion
    assert suggestion.low < suggestion.price < suggestion.high
