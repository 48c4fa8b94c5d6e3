"""`zeta load`: a file into the store in one transaction, so a failed load leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from zeta_serving.errors import ZetaError
from zeta_serving.loaders import ParseReport, RowError, count_lines, parse_file
from zeta_serving.store import ListingStore

ON_ERROR = ("skip", "fail")


@dataclass
class LoadResult:
    read: int
    added: int
    report: ParseReport

    @property
    def duplicates(self) -> int:
        return self.read - self.added


class NoReadableRows(ZetaError):
    def __init__(self, path: Path, report: ParseReport):
        examples = "".join(f"; {e}" for e in report.errors)
        records = f"{report.records} record" + ("" if report.records == 1 else "s")
        super().__init__(f"{path}: no readable rows ({records}, "
                         f"{report.error_count} rejected){examples}")
        self.report = report


class RejectedRows(ZetaError):
    def __init__(self, report: ParseReport):
        examples = "; ".join(str(e) for e in report.errors)
        super().__init__(f"{report.error_count} bad row(s), nothing loaded (--on-error fail): {examples}")
        self.report = report


def load_file(store: ListingStore, path: str | Path, fmt: str, *, on_error: str = "skip",
              undated_end=None, undated_days: float = 30.0, progress: bool = True,
              on_reject: Callable[[RowError], None] | None = None) -> LoadResult:
    """Load one file in one transaction; `on_reject` sees every rejected line (the report keeps 5)."""
    if on_error not in ON_ERROR:
        raise ZetaError(f"--on-error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
    path = Path(path)
    report = ParseReport(on_reject=on_reject)
    added = 0
    bar = tqdm(total=count_lines(path) if path.is_file() else 0, unit=" lines", disable=not progress,
               desc=f"loading {path.name}", leave=False)
    with bar, store.transaction() as conn:
        for frame in parse_file(path, fmt, undated_end=undated_end, undated_days=undated_days,
                                report=report, on_row=lambda line: setattr(bar, "n", line)):
            bar.refresh()
            if on_error == "fail" and report.error_count:
                raise RejectedRows(report)
            added += store.insert(frame, conn)
        if on_error == "fail" and report.error_count:
            raise RejectedRows(report)  # rolls the transaction back
        if not report.rows:
            raise NoReadableRows(path, report)  # a wrong file or layout must not look like success
    return LoadResult(read=report.rows, added=added, report=report)
