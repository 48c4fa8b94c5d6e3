"""`zeta maintain`, `zeta status`, `zeta history`."""

from __future__ import annotations

import math

import click

from zeta_serving.cli.common import echo_json, open_store, task_names

EXIT_FAILED_CYCLE = 3


def _clock(now: str | None):
    from zeta_serving.maintenance.clock import FixedClock, SystemClock
    from zeta_serving.windows import as_utc

    return FixedClock(as_utc(now).to_pydatetime()) if now else SystemClock()


@click.command("maintain")
@click.option("--once", is_flag=True, help="Run one cycle and exit (the form for a Kubernetes CronJob).")
@click.option("--model", "models", multiple=True, type=click.Choice(task_names()), help="Only this model (repeatable).")
@click.option("--now", default=None, help="The time the cycle believes it is (ISO-8601, UTC if no zone).")
@click.option("--config", "config_file", default=None, help="Project config file (default: ./zeta.toml).")
@click.option("--deployer", type=click.Choice(["local", "inprocess", "kubernetes", "spinnaker"]), default=None,
              help="Override the config's deployer. `inprocess` deploys nothing outside this process (a dry "
                   "run); `local` with --once acts on the running `zeta up` / `zeta maintain` of this checkout.")
@click.option("--offline", is_flag=True,
              help="Score the stored champion in this process instead of sending the evaluation rows through "
                   "what serves.")
@click.option("--json", "as_json", is_flag=True, help="Print the cycle results as JSON.")
@click.option("--health-port", type=click.IntRange(0, 65535), default=None, envvar="ZETA_HEALTH_PORT",
              help="Serve /healthz, /readyz and /metrics on this port (0: any free port).")
@click.option("--leader", "leader_kind", type=click.Choice(["database", "kubernetes"]), default="database",
              show_default=True, help="Where replicas elect the one that schedules: the database lease "
                                      "or a coordination.k8s.io Lease (see [kubernetes] in zeta.toml).")
@click.option("--log-format", type=click.Choice(["auto", "json", "text"]), default=None, envvar="ZETA_LOG_FORMAT",
              help="Logs on stderr: JSON lines (auto: when stderr is not a terminal; the default "
                   "without --once).")
@click.pass_context
def maintain(ctx, once: bool, models: tuple[str, ...], now: str | None, config_file: str | None,
             deployer: str | None, offline: bool, as_json: bool, health_port: int | None, leader_kind: str,
             log_format: str | None) -> None:
    """Keep the live models healthy: evaluate, retrain, gate, build, deploy, verify, record."""
    import sys

    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.pod import configure_logging
    from zeta_serving.maintenance.runtime import make_maintainer

    from zeta_serving.errors import ZetaError
    from zeta_serving.maintenance.signals import stop_cleanly

    if log_format or not once:
        configure_logging(log_format or "auto", debug=ctx.obj.get("debug", False), stream=sys.stderr)

    models = models or tuple(task_names())
    config = load_config(config_file, deployer=deployer)
    clock = _clock(now)
    try:
        store = open_store(ctx)
    except ZetaError as exc:
        if not once:
            raise
        # A CronJob's cycle that cannot start is a failed cycle: alert and exit like one, in one line.
        sent = _alert_unreachable(config, models, clock, str(exc))
        click.echo(f"zeta: error: {exc}; cycle failed for {', '.join(models)}; alert {sent}", err=True)
        ctx.exit(EXIT_FAILED_CYCLE)
    # --once deploys with the configured deployer, so a CronJob's cycle changes what serves.
    maintainer = make_maintainer(store, config, clock, once=once, offline=offline)
    if once:
        results = []
        with stop_cleanly(maintainer):
            for model in models:
                if maintainer.stopping.is_set():
                    break  # a signal: the models not started yet are left for the next cycle
                results.append(maintainer.run(model, trigger="once"))
        if as_json:
            echo_json([r.as_dict() for r in results])
        else:
            for r in results:
                click.echo(f"{r.model:9s} {r.decision:18s} {r.summary}")
        if any(r.decision == "failed" for r in results):
            ctx.exit(EXIT_FAILED_CYCLE)
        return
    if now:
        raise click.UsageError("--now only makes sense with --once (the scheduler follows the real clock)")
    ctx.exit(run_forever(maintainer, config, models, leader=_leader(leader_kind, maintainer, config),
                         health_port=health_port))


def _alert_unreachable(config, models, clock, error: str) -> str:
    """Send one `failed` alert per model through every sink but the log (our one line is the log)."""
    from zeta_serving.maintenance.alerts import Alert, build_sinks, scrub_secrets

    policy = config.policy(models[0])
    names = [n for n in policy.alerts if n != "log"]
    if not names:
        return "logged"
    sinks = build_sinks(names, webhook_url=policy.webhook_url or None, timeout=5.0, retries=2)
    delivered = [sinks.send(Alert(m, "failed", scrub_secrets(f"database: {error}; nothing was changed"),
                                  clock.now(), None, {"stage": "database"})) for m in models]
    ok = all(all(d.values()) if isinstance(d, dict) else d for d in delivered)
    return f"sent to {', '.join(names)}" if ok else f"NOT delivered to {', '.join(names)}"


def run_forever(maintainer, config, models, *, leader, health_port: int | None = None) -> int:
    """The scheduler, as its leader replica (zeta_serving/maintenance/pod.py: health port, SIGTERM)."""
    from zeta_serving.maintenance import pod

    return pod.run_forever(maintainer, config, models, leader=leader, health_port=health_port,
                           missed=missed_at_start(maintainer, config, models))


def _leader(kind: str, maintainer, config):
    from zeta_serving.maintenance.leader import DatabaseLeader, KubernetesLeader

    seconds = 30.0  # a dead leader's replica takes over within this
    if kind == "database":
        return DatabaseLeader(maintainer.store.engine, maintainer.replica, seconds)
    from zeta_serving.k8s.objects import LEASE_NAME
    from zeta_serving.maintenance.kubernetes import KubernetesSettings, api_client
    from zeta_serving.maintenance.sections import load_section

    settings = load_section(config.source, "kubernetes", KubernetesSettings)
    return KubernetesLeader(api_client(settings), settings.resolved_namespace(), LEASE_NAME, maintainer.replica,
                            seconds, request_timeout=settings.request_timeout)


def missed_at_start(maintainer, config, models) -> dict:
    """Cycles the schedule owed while the loop was down (from the ledger); each runs once now."""
    from zeta_serving.maintenance.schedule import missed_cycles

    missed = missed_cycles(config, maintainer.ledger, maintainer.clock.now(), models)
    for model, due in missed.items():
        click.echo(f"{model}: the cycle due {due:%Y-%m-%d %H:%M} UTC was missed while the loop was down: "
                   "running it now", err=True)
    return missed


@click.command("accept")
@click.argument("model", type=click.Choice(task_names()))
@click.option("--reason", required=True, help="Why this level is the new normal (kept in the ledger).")
@click.option("--score", type=float, default=None,
              help="The new reference (default: the live score of the model's last measured cycle).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def accept(ctx, model: str, reason: str, score: float | None, as_json: bool) -> None:
    """Accept the current level of MODEL as its reference: alerts stop until it drops below that."""
    import getpass
    from datetime import datetime, timezone

    from zeta_serving.errors import ZetaError
    from zeta_serving.maintenance.ledger import Ledger

    if not reason.strip():
        raise click.UsageError("--reason must say why (it is kept in the ledger)")
    ledger = Ledger(open_store(ctx).engine)
    champion = ledger.champion(model)
    if champion is None:
        raise ZetaError(f"no {model} champion in the ledger yet: nothing to accept")
    source = "explicit"
    if score is None:
        measured = ledger.history(model)
        measured = measured[measured["live_score"].notna() & (measured["champion_tag"] == champion.tag)]
        if measured.empty:
            raise ZetaError(f"no live score of {champion.tag} measured yet: give the level with --score")
        score, source = float(measured.iloc[-1]["live_score"]), "live"
    if not math.isfinite(score):
        raise click.BadParameter("must be a finite number", param_hint="--score")
    done = ledger.accept(model, score, reason.strip(), datetime.now(timezone.utc), source=source,
                         operator=_operator(getpass))
    if as_json:
        echo_json(done)
        return
    click.echo(f"{model}: reference of {done['tag']} {done['previous_reference']:.4f} -> {done['reference']:.4f} "
               f"({source}); reason: {done['reason']}")


def _operator(getpass) -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a bare container
        return ""


@click.command("status")
@click.option("--config", "config_file", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx, config_file: str | None, as_json: bool) -> None:
    """Per model: what serves, the last decision, live score vs reference, unseen tokens, next run."""
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.ledger import Ledger
    from zeta_serving.maintenance.schedule import next_runs

    config = load_config(config_file)
    ledger = Ledger(open_store(ctx).engine)
    upcoming = next_runs(config, SystemClock().now())
    deployer = _status_deployer(config)
    rows = []
    for model in task_names():
        champion = ledger.champion(model)
        last = ledger.last_run(model)
        rows.append({
            "model": model,
            "serving": champion.tag if champion else None,
            "reference": champion.reference_score if champion else None,
            "last_run": last["now"].isoformat() if last else None,
            "last_decision": _text(last["decision"], "unfinished") if last else None,
            "metric": (_text(last["metric"]) or None) if last else None,
            "live": _num(last, "live_score"), "live_low": _num(last, "live_low"), "live_high": _num(last, "live_high"),
            "unseen_rate": _num(last, "unseen_rate"), "unseen_rate_train": _num(last, "unseen_rate_train"),
            "next_run": upcoming[model].isoformat(),
            **_deployed(deployer, model, champion.tag if champion else None),
        })
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'MODEL':9s} {'SERVING':32s} {'LAST DECISION':18s} {'LIVE SCORE [95% CI]':30s} {'REFERENCE':>9s} "
               f"{'UNSEEN NOW/TRAIN':>17s}  NEXT RUN")
    for r in rows:
        live = "-" if r["live"] is None else f"{r['metric']} {r['live']:.4f} [{r['live_low']:.3f},{r['live_high']:.3f}]"
        unseen = "-" if r["unseen_rate"] is None else (
            f"{r['unseen_rate']:.3f}/" + ("-" if r["unseen_rate_train"] is None else f"{r['unseen_rate_train']:.3f}"))
        click.echo(f"{r['model']:9s} {r['serving'] or '-':32s} {r['last_decision'] or 'never run':18s} {live:30s} "
                   f"{'-' if r['reference'] is None else format(r['reference'], '.4f'):>9s} {unseen:>17s}  "
                   f"{r['next_run'][:16]}")
    for r in rows:
        flag = "   <-- DISAGREES with the ledger's champion" if r["agrees"] is False else ""
        if r["deployed"] is None and r["deployed_image"]:
            flag = "   <-- UNKNOWN: cannot tell which model serves"
        click.echo(f"{r['model']:9s} deployed ({r['deployer']}): {r['deployed_note']}{flag}")


def _deployed(deployer, model: str, champion: str | None) -> dict:
    """What the configured deployer reports as serving `model`, next to the ledger's champion."""
    if deployer is None:
        return {"deployer": "inprocess", "deployed": None, "deployed_image": None, "agrees": None,
                "deployed_note": "in-process only: nothing outside a cycle's own process was deployed"}
    try:
        current = deployer.current(model)
    except Exception as exc:  # noqa: BLE001 - an unreachable deployer is reported, not fatal
        # An `UnknownImage` (kubernetes) names the image that runs: what is known, said as is.
        note = str(exc) if getattr(exc, "image", None) else f"cannot ask the deployer: {exc}"
        return {"deployer": deployer.name, "deployed": None, "deployed_image": getattr(exc, "image", None),
                "agrees": None, "deployed_note": note}
    tag = current.model_tag if current else None
    note = tag or "nothing serves"
    return {"deployer": deployer.name, "deployed": tag, "deployed_image": current.image_tag if current else None,
            "agrees": tag == champion if tag and champion else None, "deployed_note": note}


def _status_deployer(config):
    """The configured deployer, attached (never started) for reading; None for the in-process one."""
    policy = config.policy(task_names()[0])
    if policy.deployer == "inprocess":
        return None
    if policy.deployer == "local":
        from zeta_serving.maintenance import local_remote

        running = local_remote.find(policy.port)
        if running is None:
            from zeta_serving.maintenance.local_deployer import LocalDeployer

            return LocalDeployer(port=policy.port, publish=False)  # not started: it reports nothing serving
        return running
    from zeta_serving.maintenance.runtime import make_deployer

    return make_deployer(policy.deployer, config)


@click.command("history")
@click.argument("model", type=click.Choice(task_names()))
@click.option("--limit", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def history(ctx, model: str, limit: int, as_json: bool) -> None:
    """The model's maintenance runs, newest last."""
    import json

    from zeta_serving.maintenance.ledger import Ledger

    ledger = Ledger(open_store(ctx).engine)
    frame = ledger.history(model, limit=limit)
    since = frame["now"].min() if not frame.empty else None
    accepts = [a for a in ledger.accepts_of(model) if since is None or a["at"] >= since]
    if as_json:
        records = json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))
        for record in records:
            record["details"] = json.loads(record.get("details") or "{}")
        accepted = [{"kind": "accept", **a, "at": a["at"].isoformat()} for a in accepts]
        echo_json(sorted(records + accepted, key=lambda r: r.get("now") or r.get("at")))
        return
    if frame.empty and not accepts:
        click.echo(f"no maintenance runs for {model} yet")
        return
    lines = [(a["at"], f"{a['at']:%Y-%m-%d %H:%M}  accept {a['tag']}: reference {a['previous_reference']:.4f} -> "
                       f"{a['reference']:.4f} ({a['source']}) by {a['operator'] or '-'}: {a['reason']}")
             for a in accepts]
    for _, r in frame.iterrows():  # an unfinished or skipped run has None/NaN in most columns
        live = "" if _nan(r["live_score"]) else f"live {r['live_score']:.4f}"
        chal = "" if _nan(r["challenger_score"]) else f" challenger {r['challenger_score']:.4f}"
        ref = "" if _nan(r["reference_score"]) else f" ref {r['reference_score']:.4f}"
        stage = _text(r["failed_stage"]) or (_text(r.get("stage")) if not _text(r["decision"]) else "")
        fail = f" [{stage}: {_text(r['error'], '-')}]" if _text(r["failed_stage"]) else ""
        if not _text(r["decision"]) and stage:
            fail = f" [in {stage}]"
        details = json.loads(_text(r["details"], "{}") or "{}")
        alert = details.get("alert")
        dry = " (in-process only)" if details.get("deployer") == "inprocess" else ""
        shown = " (alert grouped)" if alert == "grouped" else (f" ({alert} alert)" if r["alerted"] and alert else "")
        image = f"  image {_text(r['image_tag'])}" if _text(r["image_tag"]) else ""
        lines.append((r["now"], f"{r['now']:%Y-%m-%d %H:%M}  #{int(r['id']):<4d} {_text(r['trigger'], '-'):13s} "
                                f"{_text(r['decision'], 'unfinished'):18s} {live}{chal}{ref}  "
                                f"serving {_text(r['serving_tag'], '-')}{image}{dry}{fail}{shown}"))
    for _, line in sorted(lines, key=lambda item: item[0]):
        click.echo(line)


def _num(row, key):
    if not row or row.get(key) is None:
        return None
    value = float(row[key])
    return None if math.isnan(value) else value


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value, default: str = "") -> str:
    """A text column's value, or `default` for None/NaN (pandas fills missing text with either)."""
    return default if _nan(value) else str(value)
