"""Every top-level `zeta` command, in help order."""

from zeta_serving.cli.backtest_cmd import backtest
from zeta_serving.cli.data_cmd import load
from zeta_serving.cli.db_cmd import db
from zeta_serving.cli.gc_cmd import gc
from zeta_serving.cli.k8s_cmd import k8s
from zeta_serving.cli.maintain_cmd import accept, history, maintain, status
from zeta_serving.cli.model_cmd import evaluate, models, predict, train
from zeta_serving.cli.report_cmd import report
from zeta_serving.cli.serve_cmd import build, serve
from zeta_serving.cli.synth_cmd import synth
from zeta_serving.cli.tokenizer_cmd import tokenizer
from zeta_serving.cli.up_cmd import up

ALL = [up, load, synth, train, evaluate, predict, models, build, serve, maintain, status, history, accept, gc, backtest,
       report, tokenizer, db, k8s]
