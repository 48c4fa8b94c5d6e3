#!/bin/sh
# The bento image's entrypoint: BentoML's own (env/docker/entrypoint.sh, which execs `bentoml serve`
# for no arguments or flags and anything else as given), with a bound on the drain.
#
# On SIGTERM `bentoml serve` (a circus arbiter) passes SIGTERM to its uvicorn workers and waits for
# them (BentoML sets no limit: graceful_timeout 86400 s); each worker stops accepting, finishes the
# requests it holds, then exits. Without `--timeout-graceful-shutdown` one stuck request would keep
# the pod until the kubelet's SIGKILL; with it, requests still running after ZETA_DRAIN_SECONDS
# (default 20, under the Deployment's 30 s grace period) are cancelled and the server exits.
set -eu
case "${1:-}" in
  "" | -*) exec /home/bentoml/bento/env/docker/entrypoint.sh \
             --timeout-graceful-shutdown "${ZETA_DRAIN_SECONDS:-20}" "$@" ;;
  *) exec /home/bentoml/bento/env/docker/entrypoint.sh "$@" ;;
esac
