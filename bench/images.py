"""Image build times and sizes with buildah (vfs, chroot), cold and warm, side by side.

    .venv/bin/python bench/images.py [--storage DIR] [--cold-rootfs]

Builds, in a fresh image storage: the MeCab base, the serving runtime and the price
bento image (training a small price model first), then the same again with nothing
changed (the repeat build: what a promotion pays when only the model changed), and
prints seconds per step and the bytes each tier adds. Needs root, buildah, debootstrap.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", default=None, help="image storage folder (default: a fresh temp folder)")
    parser.add_argument("--cold-rootfs", action="store_true", help="debootstrap again instead of the cached tree")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zeta-bench-images-"))
    storage = Path(args.storage or work / "storage")
    os.environ.update(ZETA_CONTAINER_ROOT=str(storage / "root"), ZETA_CONTAINER_RUNROOT=str(storage / "run"),
                      BENTOML_HOME=str(work / "bentoml"), BENTOML_DO_NOT_TRACK="true", ZETA_HOME=str(work))
    from zeta_serving import bentos, images, synth, wheelhouse
    from zeta_serving.engine import Engine
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    if args.cold_rootfs:
        for tar in images.cache_dir().glob("rootfs-*.tar"):
            tar.unlink()
    engine = Engine.from_env("buildah")
    store = ListingStore(f"sqlite:///{work / 'bench.db'}")
    from datetime import date

    for frame in synth.generate(date(2026, 1, 1), 10, 300, seed=3):
        store.insert(frame)
    model = train_task(store, "price", train_days=7, eval_days=3).saved.tag

    rows = []

    def timed(label, fn):
        started = time.monotonic()
        out = fn()
        rows.append((label, time.monotonic() - started))
        return out

    timed("wheelhouse fill", lambda: wheelhouse.fill(ROOT))
    for run in ("cold", "warm"):
        timed(f"{run}: base image (debootstrap tree cached: {bool(list(images.cache_dir().glob('rootfs-*.tar')))})",
              lambda: images.ensure_base(engine, ROOT, log=lambda m: None))
        timed(f"{run}: serving runtime image", lambda: images.ensure_runtime(engine, ROOT, log=lambda m: None))
        tag = timed(f"{run}: bentoml build price", lambda: bentos.build("price", model_tags={"price": model}))
        timed(f"{run}: price bento image", lambda: bentos.containerize(tag, backend="buildah", root=ROOT))
    for label, seconds in rows:
        print(f"{label:60s} {seconds:8.1f} s")
    cold = sum(s for label, s in rows if label.startswith("cold"))
    warm = sum(s for label, s in rows if label.startswith("warm"))
    print(f"{'cold total / warm total':60s} {cold:8.1f} s / {warm:.1f} s  (ratio {cold / max(warm, 1e-9):.1f}x)")
    for image in (images.base_tag(ROOT), images.runtime_tag(ROOT), tag):
        print(f"{image:60s} {len(engine.layers(image))} layers")
    engine.run("rmi", "-a", "-f")


if __name__ == "__main__":
    main()
