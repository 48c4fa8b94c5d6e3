"""The maintenance report: HTML + PNGs from a synthetic ledger, the figure's content, and `zeta report`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from zeta_serving import tasks
from zeta_serving.maintenance import report as rep
from zeta_serving.maintenance import report_plot as plot
from zeta_serving.maintenance.ledger import Ledger, Run

METRICS = {"price": ("rmsle", -1), "category": ("accuracy@1", 1), "tag": ("micro_f1", 1)}
START = datetime(2026, 2, 1, 3, 0, tzinfo=timezone.utc)
EVIL = '<script>alert("x")</script> & stage blew up'
N_RUNS = 30


def _script(n: int = N_RUNS) -> list[str]:
    """Decisions per day: mostly healthy, one of each interesting outcome."""
    decisions = ["healthy"] * n
    if n < N_RUNS:
        return decisions
    decisions[3] = "skipped"
    decisions[8] = "not-recovered"
    decisions[9] = "promoted"
    decisions[17] = "promoted-degraded"
    decisions[22] = "failed"  # within the last 10 runs, so its error shows in the table
    decisions[24] = "promoted"
    return decisions


def _fill(ledger: Ledger, model: str, n: int = N_RUNS) -> list[str]:
    metric, sign = METRICS[model]
    base = 0.55 if sign < 0 else 0.7
    reference, tag, version = base, f"zeta-{model}:v0", 0
    rng = np.random.default_rng(len(model))
    decisions = _script(n)
    for day, decision in enumerate(decisions):
        run = ledger.start(Run(model=model, now=START + timedelta(days=day), replica="test"))
        drift = 0.004 * (day % 8)  # the live model slowly gets worse until a promotion
        live = reference - sign * drift + rng.normal(0, 0.003)
        values = dict(decision=decision, metric=metric, reference_score=reference, champion_tag=tag,
                      unseen_rate=0.02 + 0.003 * (day % 8), unseen_rate_train=0.02, alerted=False)
        if decision != "failed":
            values.update(live_score=live, live_low=live - 0.01, live_high=live + 0.01)
        if decision in ("promoted", "promoted-degraded", "not-recovered"):
            challenger = reference + sign * 0.01 if decision == "promoted" else live + sign * 0.005
            version += 1
            values.update(challenger_score=challenger, challenger_low=challenger - 0.01,
                          challenger_high=challenger + 0.01, challenger_tag=f"zeta-{model}:v{version}")
            if decision.startswith("promoted"):
                tag = f"zeta-{model}:v{version}"
            if decision == "promoted":  # a degraded promotion keeps the old standard
                reference = challenger
        if decision == "not-recovered":
            values["alerted"] = True
        if decision == "failed":
            values.update(failed_stage="build", error=EVIL)
        values["serving_tag"] = tag
        run.set(**values)
        ledger.stage(run, "evaluate", START + timedelta(days=day), 1.0, decision != "failed")
        ledger.finish(run)
    return decisions


def _engine(path):
    """A SQLite file engine that skips fsync: the ledger commits per stage, and tests need not survive a crash."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _fast(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA synchronous=OFF")
        dbapi_conn.execute("PRAGMA journal_mode=MEMORY")

    return engine


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    engine = _engine(tmp_path / "l.db")
    yield Ledger(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A ledger with N_RUNS runs for price and category, none for tag; and each model's decisions."""
    engine = _engine(tmp_path_factory.mktemp("ledger") / "l.db")
    ledger = Ledger(engine)
    yield ledger, {model: _fill(ledger, model) for model in ("price", "category")}
    engine.dispose()


def test_report_html_and_pngs(filled, tmp_path):
    ledger, scripts = filled  # tag: no runs yet
    out = tmp_path / "report"
    index = rep.write_report(ledger, out)

    assert index == out / "index.html" and index.exists()
    page = index.read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page
    for model in scripts:
        assert f'src="{model}.png"' in page
        with Image.open(out / f"{model}.png") as image:
            image.load()
            assert image.format == "PNG"
            assert 900 <= image.width <= 1100 and 550 <= image.height <= 750
    assert not (out / "tag.png").exists()
    tag_section = page.split('id="model-tag"', 1)[1]
    assert "no runs yet" in tag_section and "<img" not in tag_section

    # The table shows the last 10 runs' decisions, newest first; the counts cover all of them.
    price = page.split('id="model-price"', 1)[1].split("</section>", 1)[0]
    table = price.split('class="runs"', 1)[1]
    shown = re.findall(r'<td class="d-[^"]*">([^<]*)</td>', table)
    assert shown == [d for d in scripts["price"][-10:]][::-1]
    counts = price.split('class="counts"', 1)[1].split("</table>", 1)[0]
    for decision in ("healthy", "skipped", "promoted", "promoted-degraded", "not-recovered", "failed"):
        assert f">{decision}</th>" in counts
    assert '<td class="num">2</td>' in counts  # two promotions
    assert f'<td class="num">{N_RUNS}</td>' in counts  # total
    assert "rmsle (lower is better)" in price
    assert "accuracy@1 (higher is better)" in page
    assert "serving: <b>zeta-price:v4</b>" in price

    # The failed run's error is in the table, escaped; the not-recovered run is flagged as alerted.
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; stage blew up" in page
    assert "<b>build</b>" in price


def test_alert_flag_and_error_trim(ledger, tmp_path):
    run = ledger.start(Run(model="price", now=START))
    run.set(decision="not-recovered", metric="rmsle", alerted=True, live_score=0.6, live_low=0.59,
            live_high=0.61, reference_score=0.55)
    ledger.finish(run)
    run = ledger.start(Run(model="price", now=START + timedelta(days=1)))
    run.set(decision="failed", failed_stage="deploy", error="x" * 5000)
    ledger.finish(run)
    ledger.start(Run(model="price", now=START + timedelta(days=2)))  # never finished

    page = rep.write_report(ledger, tmp_path / "r", models=("price",)).read_text(encoding="utf-8")
    assert "not-recovered (alerted)" in page
    assert "0.6 [0.59, 0.61]" in page
    assert "x" * rep.ERROR_CHARS not in page and "x" * (rep.ERROR_CHARS - 1) + "\u2026" in page
    assert ">unfinished</td>" in page
    assert (tmp_path / "r" / "price.png").exists()


def _by_gid(ax, gid):
    return [a for a in (*ax.lines, *ax.collections) if a.get_gid() == gid]


def test_figure_reflects_the_data(filled):
    ledger, scripts = filled
    decisions = scripts["price"]
    history = ledger.history("price")
    series = plot.plot_series(history)
    assert len(series[plot.GID_PROMOTED]["x"]) == decisions.count("promoted") == 2
    assert len(series[plot.GID_PROMOTED_DEGRADED]["x"]) == 1
    assert len(series[plot.GID_NOT_RECOVERED]["x"]) == 1
    assert list(series[plot.GID_FAILED]["stage"]) == ["build"]
    assert len(series[plot.GID_LIVE]["x"]) == N_RUNS - 1  # the failed run has no score
    assert len(series[plot.GID_CHALLENGER]["x"]) == 4
    # The reference changes exactly at the recovered promotions (to the promoted challenger's score);
    # a degraded promotion keeps the old standard.
    ref = series[plot.GID_REFERENCE]
    assert len(np.unique(ref["y"])) == 1 + 2
    changes = ref["x"][1:][np.diff(ref["y"]) != 0]
    promotions = history["now"][history["decision"] == "promoted"].dt.tz_convert(None).to_numpy()
    assert list(changes) == list(promotions)
    assert np.allclose(ref["y"][np.isin(ref["x"], promotions)],
                       history["challenger_score"][history["decision"] == "promoted"])

    fig = plot.plot_model(history, "price")
    top, bottom = fig.axes
    assert top.get_shared_x_axes().joined(top, bottom)
    (band,) = _by_gid(top, plot.GID_BAND)
    assert type(band).__name__ in ("FillBetweenPolyCollection", "PolyCollection")
    (reference,) = _by_gid(top, plot.GID_REFERENCE)
    assert reference.get_drawstyle() == "steps-post"
    expected = series[plot.GID_REFERENCE]["y"]
    assert np.allclose(reference.get_ydata()[: len(expected)], expected)
    (promoted,) = _by_gid(top, plot.GID_PROMOTED)
    assert len(promoted.get_xdata()) == decisions.count("promoted") and promoted.get_marker() == "^"
    (degraded,) = _by_gid(top, plot.GID_PROMOTED_DEGRADED)
    assert len(degraded.get_xdata()) == 1
    (alert,) = _by_gid(top, plot.GID_NOT_RECOVERED)
    assert alert.get_marker() == "x" and len(alert.get_xdata()) == 1
    (failed,) = _by_gid(top, plot.GID_FAILED)
    assert len(failed.get_xdata()) == 1
    assert any(t.get_text() == "build" for t in top.texts)
    (challenger,) = _by_gid(top, plot.GID_CHALLENGER)
    assert challenger.get_markerfacecolor() == "none"
    assert "lower is better" in top.get_ylabel() and "zeta-price:v4" in top.get_title()
    (unseen_train,) = _by_gid(bottom, plot.GID_UNSEEN_TRAIN)
    assert unseen_train.get_linestyle() == "--"
    assert len(_by_gid(bottom, plot.GID_UNSEEN)[0].get_xdata()) == N_RUNS
    assert top.get_legend() is not None
    w, h = fig.get_size_inches() * fig.dpi
    assert (round(w), round(h)) == (1000, 650)


@pytest.mark.parametrize("model, metric, lower", [("price", "rmsle", True), ("category", "accuracy@1", False),
                                                  ("tag", "micro_f1", False), ("price", None, None),
                                                  ("price", "accuracy@1", None), ("elsewhere", "rmsle", None)])
def test_direction_comes_from_the_estimator_never_from_the_name(model, metric, lower):
    assert plot.lower_is_better(model, metric) is lower


def test_cli_report(tmp_path, capsys):
    from zeta_serving.cli import main

    url = f"sqlite:///{tmp_path / 'zeta.db'}"
    engine = _engine(tmp_path / "zeta.db")
    _fill(Ledger(engine), "tag", n=12)
    engine.dispose()
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", url, "report", "--out", str(out)])
        raise SystemExit(0)
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out.strip()
    assert printed == str(out / "index.html")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert str(tmp_path) not in page and "sqlite:" not in page  # the database URL is never printed
    assert 'src="tag.png"' in page and (out / "tag.png").exists()
    assert page.count("no runs yet") == len(tasks.names()) - 1  # every registered model has a section

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", url, "report", "--out", str(tmp_path / "only"), "--model", "price"])
        raise SystemExit(0)
    assert exit_info.value.code in (0, None)
    only = (tmp_path / "only" / "index.html").read_text(encoding="utf-8")
    assert 'id="model-price"' in only and 'id="model-tag"' not in only


def test_cli_report_unwritable_out(tmp_path, capsys):
    from zeta_serving.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", f"sqlite:///{tmp_path / 'z.db'}", "report", "--out", str(blocker / "sub")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("zeta: error: cannot create report directory") and err.count("\n") == 1
