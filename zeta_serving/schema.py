"""The listing record shared by the store, the loaders, the generator and the models."""

from __future__ import annotations

# Column order of a listings DataFrame everywhere in zeta.
#   id          str, unique within the store (loaders prefix it by source, e.g. "kaggle:17")
#   name        str, never empty
#   description str ("" when none)
#   brand       str ("" when none)
#   condition   int 1..6 (1 = 新品、未使用 ... 6 = 全体的に状態が悪い; Kaggle uses 1..5)
#   shipping    int 0 = buyer pays, 1 = seller pays
#   category    str, levels joined by "/" ("" when unknown)
#   price       float, in `currency` units (NaN when unlabelled)
#   currency    str, "JPY" or "USD"
#   tags        list[str]
#   listed_at   pandas Timestamp, UTC
COLUMNS = [
    "id",
    "name",
    "description",
    "brand",
    "condition",
    "shipping",
    "category",
    "price",
    "currency",
    "tags",
    "listed_at",
]

CONDITIONS = {
    1: "新品、未使用",
    2: "未使用に近い",
    3: "目立った傷や汚れなし",
    4: "やや傷や汚れあり",
    5: "傷や汚れあり",
    6: "全体的に状態が悪い",
}
MIN_CONDITION, MAX_CONDITION = 1, 6
