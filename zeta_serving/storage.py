"""The listing store as the maintenance loop and the trainer see it (ListingStore is the one in use)."""

from __future__ import annotations

from typing import Any, Protocol

import pandas as pd
from sqlalchemy.engine import Engine


class Store(Protocol):
    @property
    def engine(self) -> Engine:
        """The database the ledger, leases and champions share with the listings."""

    def window(self, start: Any, end: Any, *, labelled: str | None = None,
               limit: int | None = None) -> pd.DataFrame:
        """Listings with start <= listed_at < end, oldest first (`labelled`: only rows with that label)."""

    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """Oldest and newest listing time (None: empty)."""
