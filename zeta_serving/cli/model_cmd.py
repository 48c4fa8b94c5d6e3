"""`zeta train`, `zeta evaluate`, `zeta predict`, `zeta models`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zeta_serving.cli.common import echo_json, open_store, task_names
from zeta_serving.loaders import FORMATS

TASK_CHOICES = task_names()


def _stage(task: str):
    return lambda message: click.echo(f"[{task}] {message}", err=True)


def _score_line(metric: str, scores: dict) -> str:
    return "  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in scores.items())


@click.command("train")
@click.argument("model", type=click.Choice(TASK_CHOICES + ["all"]))
@click.option("--until", default=None, help="End of the evaluation window (default: just after the newest listing).")
@click.option("--window-days", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True,
              help="Length of the training window, which ends where evaluation begins.")
@click.option("--eval-days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True,
              help="Length of the held-out evaluation window (the newest days).")
@click.option("--crown", is_flag=True, help="Make the new model the champion even if the task has one.")
@click.pass_context
def train(ctx: click.Context, model: str, until: str | None, window_days: float, eval_days: float,
          crown: bool) -> None:
    """Train MODEL (or all of them) and save it to the BentoML model store.

    The first model of a task becomes its champion (what serves by default); later ones
    only with --crown, or when the maintenance loop promotes them.
    """
    from zeta_serving.champion import champion_of, crown_first
    from zeta_serving.trainer import train_task

    store = open_store(ctx)
    for task in TASK_CHOICES if model == "all" else [model]:
        result = train_task(store, task, until=until, train_days=window_days, eval_days=eval_days,
                            on_stage=_stage(task))
        click.echo(f"{task:9s} {result.saved.tag}  {_score_line(result.saved.metadata['metric'], result.scores)}"
                   f"  (train {result.train_rows} rows, held out {result.eval_rows}, {result.seconds:.1f}s)")
        if crown_first(store, result.saved, force=crown):
            click.echo(f"{task:9s} {result.saved.tag} is now the {task} champion: it serves by default")
        else:
            held = champion_of(task, store)
            click.echo(f"{task:9s} the champion stays {held.tag if held else '?'} "
                       f"(pass --crown to serve the new model by default)")


@click.command("evaluate")
@click.argument("model", type=click.Choice(TASK_CHOICES))
@click.option("--model-tag", default=None, help="A stored model tag (default: MODEL's champion).")
@click.option("--until", default=None, help="End of the evaluation window (default: just after the newest listing).")
@click.option("--eval-days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def evaluate(ctx: click.Context, model: str, model_tag: str | None, until: str | None, eval_days: float,
             as_json: bool) -> None:
    """Score a stored model on the newest labelled window, against its reference score."""
    from zeta_serving.champion import resolve
    from zeta_serving.trainer import evaluate as run

    store = open_store(ctx)
    scores, saved, windows = run(store, model_tag or resolve(model, store), until=until, eval_days=eval_days)
    if saved.task != model:
        raise click.UsageError(f"{saved.tag} is a {saved.task} model, not {model}")
    metric = saved.metadata["metric"]
    out = {"model": model, "tag": saved.tag, "metric": metric, "score": scores[metric],
           "reference": saved.reference_score, "scores": scores, "window": windows.as_dict()}
    if as_json:
        echo_json(out)
        return
    click.echo(f"{saved.tag}: {metric} {scores[metric]:.4f} on {scores.get('rows', '?')} rows "
               f"{windows.eval_start:%Y-%m-%d %H:%M} .. {windows.eval_end:%Y-%m-%d %H:%M} "
               f"(reference {saved.reference_score:.4f})")


@click.command("predict")
@click.argument("model", type=click.Choice(TASK_CHOICES))
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False), help="Listings to predict.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="zeta", show_default=True)
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="JSON Lines out: one object per listing with its id.")
@click.option("--model-tag", default=None, help="A stored model tag (default: MODEL's champion).")
@click.pass_context
def predict(ctx: click.Context, model: str, input_path: str, fmt: str, output_path: str,
            model_tag: str | None) -> None:
    """Batch predictions for every listing in a file."""
    from zeta_serving import registry
    from zeta_serving.champion import resolve
    from zeta_serving.loaders import ParseReport, parse_file

    estimator, saved = registry.load(model_tag or resolve(model, open_store(ctx)))
    if saved.task != model:
        raise click.UsageError(f"{saved.tag} is a {saved.task} model, not {model}")
    report = ParseReport()
    written = 0
    out = Path(output_path)
    tmp = out.with_name(out.name + ".partial")  # a crash never leaves a half file under the real name
    with tmp.open("w", encoding="utf-8") as fh:
        for frame in parse_file(input_path, fmt, report=report, chunk_rows=5000):
            for row_id, prediction in zip(frame["id"], estimator.predict(frame)):
                fh.write(json.dumps({"id": row_id, "model_tag": saved.tag, **prediction},
                                    ensure_ascii=False) + "\n")
                written += 1
    tmp.replace(out)
    click.echo(f"wrote {written} predictions to {out} with {saved.tag}; skipped {report.error_count} bad rows")
    for error in report.errors:
        click.echo(f"  skipped {error}", err=True)


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all-stores", is_flag=True, help="Also models trained from other listing stores.")
@click.pass_context
def models(ctx: click.Context, as_json: bool, all_stores: bool) -> None:
    """Models in the BentoML model store, newest first: held-out scores, the store each learned from,
    and which are champions."""
    from zeta_serving import registry
    from zeta_serving.champion import champion_of
    from zeta_serving.maintenance.ledger import Ledger

    store = open_store(ctx)
    found = registry.list_models(store_id=None if all_stores else store.id)
    crowned = {c.tag for c in (champion_of(t, store) for t in TASK_CHOICES) if c is not None}
    images = Ledger(store.engine).images()
    if as_json:
        echo_json([{"tag": m.tag, "task": m.task, "created": m.created.isoformat(), "store": m.store,
                    "this_store": m.store == store.id, "champion": m.tag in crowned, **{
            k: m.metadata.get(k) for k in ("metric", "scores", "windows", "train_rows", "eval_rows",
                                            "package_version")},
            "tokenizer": m.tokenizer_fingerprint.get("id"), "image": images.get(m.tag)} for m in found])
        return
    if not found:
        click.echo(f"no models from this store ({store.id}) yet: run `zeta train all`")
        return
    click.echo(f"{'TAG':40s} {'TASK':9s} {'CREATED':20s} {'SCORE':22s} {'TRAIN':>8s}  {'STORE':12s}  "
               f"{'TOKENIZER':16s}  IMAGE")
    for m in found:
        metric = m.metadata.get("metric", "")
        score = f"{metric} {m.metadata.get('scores', {}).get(metric, float('nan')):.4f}"
        mark = " *champion" if m.tag in crowned else ""
        click.echo(f"{m.tag:40s} {m.task:9s} {m.created:%Y-%m-%d %H:%M:%S}  {score:22s} "
                   f"{m.metadata.get('train_rows', 0):>8d}  {m.store or '-':12s}  "
                   f"{m.tokenizer_fingerprint.get('id', ''):16s}  {images.get(m.tag, '-')}{mark}")
