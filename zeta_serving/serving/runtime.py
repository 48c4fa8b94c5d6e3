"""Loading a model for serving, behind the tokenizer gate.

`gate(task)` runs when a service module is imported, which `bentoml serve` and
`bentoml build` do before anything else: a model trained under one MeCab
dictionary is never served (or packed) under another. The process exits with
EXIT_TOKENIZER_MISMATCH and the readable diff on stderr.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

import numpy as np
import pandas as pd

from zeta_serving.schema import COLUMNS

log = logging.getLogger("zeta.serving")

EXIT_NO_MODEL = 3
EXIT_TOKENIZER_MISMATCH = 4


def model_tag(task: str) -> str:
    """The tag a service serves: `$ZETA_<TASK>_MODEL`, the model its bento packs, or the champion."""
    from zeta_serving.champion import resolve

    return resolve(task)


def adaptive_batching() -> bool:
    """`ZETA_ADAPTIVE_BATCHING=0` turns the in-process micro-batching off (for benchmarks and debugging)."""
    return os.environ.get("ZETA_ADAPTIVE_BATCHING", "1") not in ("0", "false", "no")


def _refuse(code: int, message: str) -> None:
    log.error(message)
    print(f"zeta: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def gate(task: str) -> str:
    """Resolve the task's model and check its tokenizer fingerprint; return the exact tag."""
    import bentoml
    from bentoml.exceptions import NotFound

    from zeta_serving.registry import tokenizer_fingerprint
    from zeta_serving.serving.quiet import quiet_client_errors
    from zeta_serving.tokenizer import Tokenizer, compare_fingerprints

    quiet_client_errors()  # a 400 is one INFO line, not an ERROR traceback (see serving/quiet.py)
    from zeta_serving.errors import ZetaError

    try:
        wanted = model_tag(task)
    except ZetaError as exc:
        _refuse(EXIT_NO_MODEL, str(exc))
    try:
        ref = bentoml.models.get(wanted)
    except (NotFound, ValueError):
        _refuse(EXIT_NO_MODEL, f"no model {wanted} in the model store; train one with `zeta train {task}`")
    expected = tokenizer_fingerprint(ref.info.metadata)
    if not expected:
        _refuse(EXIT_TOKENIZER_MISMATCH, f"{ref.tag} records no tokenizer fingerprint; refusing to serve it")
    running = Tokenizer()
    differences = compare_fingerprints(expected, running.fingerprint())
    if differences:
        _refuse(EXIT_TOKENIZER_MISMATCH,
                f"refusing to serve {ref.tag}: it was trained under a different tokenizer "
                f"(running dictionary {running.resolved_dictionary})\n" + "\n".join(differences))
    return str(ref.tag)


def load(stored_model):
    """The fitted estimator inside a BentoML stored model."""
    from zeta_serving import registry

    return registry.load_ref(stored_model)


DEFAULTS = {"id": "", "description": "", "brand": "", "condition": 3, "shipping": 1, "category": "",
            "price": float("nan"), "currency": "JPY", "listed_at": np.datetime64("NaT", "ns")}


def to_frame(listings) -> pd.DataFrame:
    """Request bodies (pydantic models) as a listings DataFrame the estimators accept.

    Built column by column in one constructor call: inserting the missing columns one at a
    time into a frame made from records cost a third of a one-listing category suggestion."""
    rows = [item.model_dump() for item in listings]
    n = len(rows)
    given = rows[0].keys() if rows else ()
    columns = {}
    for column in COLUMNS:
        if column == "tags":
            columns[column] = [[] for _ in range(n)]
        elif column in given:
            columns[column] = [row[column] for row in rows]
        else:
            columns[column] = [DEFAULTS.get(column, "")] * n
    return pd.DataFrame(columns, columns=COLUMNS)


def fast_sklearn() -> None:
    """Skip scikit-learn's per-call input checks in a serving process.

    Each `transform`/`predict` re-validates its parameters and scans its input for NaN and
    infinity: a tenth of a one-listing suggestion. A served model's parameters were validated
    when it was fitted, and its inputs are the request schema's strings and bounded integers,
    so the checks find nothing here. Training processes keep them.
    """
    import sklearn

    sklearn.set_config(assume_finite=True, skip_parameter_validation=True)


def one_blas_thread() -> None:
    """BLAS on one thread in a serving process.

    A service runs one worker process per core, and a suggestion's matrix products are small
    (a batch of listings times a few hundred columns): OpenBLAS's own threads, one per core in
    every worker, only spin between them and take the cores from the other workers' event loops.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def settle_heap() -> None:
    """Keep the loaded models out of the garbage collector's full passes.

    A loaded model is some 200k container objects (vocabularies, trees of arrays) that live as
    long as the process. Python's full collection walks every one of them, 100-250 ms with
    four models, and requests pile up behind it: that pause was the p99 of the single routes
    at half their peak rate. Frozen after loading, they are never walked again (the pause
    drops to well under a millisecond); what requests allocate is collected as before.
    """
    gc.collect()
    gc.freeze()
