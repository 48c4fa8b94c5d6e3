"""Request and response bodies of the suggestion endpoints, with the limits a listing form needs.

Every limit here turns bad input into an HTTP 400 that names the field, before
any model code runs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zeta_serving.schema import MAX_CONDITION, MIN_CONDITION

MAX_NAME = 200  # Mercari's own title limit is 40 characters; generous for other markets
MAX_DESCRIPTION = 5000
MAX_BRAND = 100
MAX_CATEGORY = 300
MAX_BATCH = 256
MAX_K = 20

# Blanks as JSON Schema's (ECMA-262) `\s` has them, spelled out: Python's `re`, Rust's regex and
# ECMA disagree on \x1c-\x1f and \x85, and a client validating the document must agree with us.
BLANKS = "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"

# At least one non-blank character, said in the schema itself (`pattern`), not in a validator
# hidden from the OpenAPI document.
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK,
                            description="Item name as the seller typed it (not only blanks)")]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION, description="Item description")]
Brand = Annotated[str, Field(max_length=MAX_BRAND, description="Brand name; empty when none")]


class _Strict(BaseModel):
    # Strict types for every task's request: `true`, `1.0` or "3" for an integer is a 400, as the
    # document's "integer" says (lax pydantic took `shipping: false` as 0).
    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")

    @field_validator("*", mode="after")
    @classmethod
    def _strip(cls, value: object) -> object:
        # After validation, not before (str_strip_whitespace): limits hold for the text as sent,
        # as the document says, and the models still see "ナイキ" for " ナイキ ".
        # Only the documented blanks, so a name that passed NOT_BLANK never strips to "".
        return value.strip(BLANKS) if isinstance(value, str) else value


class PriceListing(_Strict):
    name: Name
    description: Description = ""
    brand: Brand = ""
    condition: int = Field(3, ge=MIN_CONDITION, le=MAX_CONDITION,
                           description="1 = 新品、未使用 ... 6 = 全体的に状態が悪い")
    shipping: int = Field(1, ge=0, le=1, description="0 = buyer pays, 1 = seller pays")
    category: str = Field("", max_length=MAX_CATEGORY, description="Category path, levels joined by '/'")


class CategoryListing(_Strict):
    name: Name
    brand: Brand = ""
    k: int = Field(3, ge=1, le=MAX_K, description="How many categories to suggest")


class TagListing(_Strict):
    name: Name
    description: Description = ""


class PriceSuggestion(BaseModel):
    price: float = Field(description="Suggested price")
    low: float = Field(description="Lower end of the suggested range")
    high: float = Field(description="Upper end of the suggested range")
    currency: str
    model_tag: str


class CategoryScore(BaseModel):
    category: str
    probability: float


class CategorySuggestion(BaseModel):
    categories: list[CategoryScore]
    model_tag: str


class TagScore(BaseModel):
    tag: str
    score: float


class TagSuggestion(BaseModel):
    tags: list[TagScore]
    model_tag: str


def batch_of(item):
    return Annotated[list[item], Field(min_length=1, max_length=MAX_BATCH,
                                       description=f"1 to {MAX_BATCH} listings")]
