"""`deployer = "kubernetes"`: roll a promoted model out on the model's Deployment.

    deploy   set the new image on `zeta-<task>` (one strategic-merge PATCH), watch the
             rollout (observed generation, updated / available replicas, the progress
             deadline), then replay the golden cases through the task's Service and check
             every answer carries the new `model_tag`. Any failure puts the previous image
             back and says why (in the error, and in a `zeta-serving/rollback-reason`
             annotation on the Deployment).
    current  what the Deployment runs: the serving container's image in its pod template,
             and the model named by that image's `io.zeta.models` label, read from the
             registry (registry_labels.py). Whoever set the image (zeta, `kubectl set image`,
             a pipeline), the answer is the image's own. A registry that cannot be read, or
             an image without the label, is an `UnknownImage` error naming the image: never
             a guess. (Mid-rollout this is the image being rolled out, not the old pods'.)

Pods gate themselves (a bento is ready only once its golden cases pass inside it), and
the manifests roll with `maxUnavailable: 0`, so a bad image stalls the rollout on
unready pods while the old ones keep serving; the deadline then rolls it back.

Settings: the `[kubernetes]` table of zeta.toml. The API server is reached with the
pod's service account inside a cluster, else a kubeconfig (`kubeconfig`, $KUBECONFIG,
~/.kube/config). The zeta-serving/* annotations zeta writes are a record for people
(`kubectl describe`) and the previous image for a rollback; they never decide `current`.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

from zeta_serving.maintenance.deployers import Client, Deployment, DeployError, check_live, tagged_client
from zeta_serving.maintenance.registry_labels import BENTO_LABEL, LabelReader, RegistryError, served_model

log = logging.getLogger("zeta.maintenance.kubernetes")

ANNOTATION = "zeta-serving/"
CONTAINER = "bento"  # the serving container's name in every rendered Deployment
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
STRATEGIC = "application/strategic-merge-patch+json"


class KubernetesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = ""  # "": $ZETA_K8S_NAMESPACE, then the pod's own namespace, then "zeta"
    kubeconfig: str = ""  # "": in-cluster service account when in a pod, else the default kubeconfig
    context: str = ""
    # Where the loop reaches a model's Service; {name} is the Deployment, {task} the model.
    service_url: str = "http://{name}.{namespace}.svc:3000"
    rollout_timeout: float = Field(900.0, gt=0)  # seconds a rollout may take before it is rolled back
    request_timeout: float = Field(30.0, gt=0)  # seconds for one API server or Service request
    watch_seconds: int = Field(60, ge=1)  # one watch request's server-side timeout (re-watched until done)
    # Registries (host[:port]) read over plain HTTP; loopback ones always are, the rest over HTTPS.
    insecure_registries: list[str] = []

    def resolved_namespace(self) -> str:
        if self.namespace:
            return self.namespace
        if os.environ.get("ZETA_K8S_NAMESPACE"):
            return os.environ["ZETA_K8S_NAMESPACE"]
        if NAMESPACE_FILE.is_file():
            return NAMESPACE_FILE.read_text().strip()
        return "zeta"


def api_client(settings: KubernetesSettings):
    """An ApiClient: the service account inside a pod, else the kubeconfig."""
    from kubernetes import client, config

    if not settings.kubeconfig and os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = client.Configuration()
        config.load_incluster_config(client_configuration=configuration)
        return client.ApiClient(configuration)
    try:
        return config.new_client_from_config(config_file=settings.kubeconfig or None,
                                             context=settings.context or None)
    except (config.ConfigException, OSError) as exc:
        raise DeployError(f"no Kubernetes API to talk to: {exc}") from None


def from_config(config, clock=None) -> "KubernetesDeployer":
    from zeta_serving.maintenance.sections import load_section

    settings = load_section(config.source, "kubernetes", KubernetesSettings)
    return KubernetesDeployer(api_client(settings), settings, clock=clock)


class UnknownImage(DeployError):
    """The Deployment runs `image`, but which model that is cannot be told (registry, label)."""

    def __init__(self, task: str, image: str, why: str):
        self.image = image
        super().__init__(f"{_name(task)} runs {image}; which model that is cannot be told: {why}")


def _api_error(what: str, exc: Exception) -> DeployError:
    status = getattr(exc, "status", None)
    reason = getattr(exc, "reason", None) or type(exc).__name__
    if status:
        return DeployError(f"Kubernetes API: {what} answered {status} {reason}")
    return DeployError(f"Kubernetes API: {what} failed: {type(exc).__name__}: {str(exc)[:200]}")


class KubernetesDeployer:
    name = "kubernetes"

    def __init__(self, api, settings: KubernetesSettings | None = None, *, clock=None, poll: float = 0.5,
                 labels: LabelReader | None = None):
        from kubernetes import client

        self.settings = settings or KubernetesSettings()
        self.labels = labels or LabelReader(insecure=self.settings.insecure_registries,
                                            timeout=self.settings.request_timeout)
        self.namespace = self.settings.resolved_namespace()
        self.apps = client.AppsV1Api(api)
        self._clock = clock
        self._poll = poll

    # -- the Deployer interface -------------------------------------------------------------
    def current(self, task: str) -> Deployment | None:
        dep = self._read(task)
        image = _image(dep)
        model_tag, bento_tag = self._served_by(task, image)
        notes = dep.metadata.annotations or {}
        # When zeta set this image it wrote down when; otherwise the rollout's last progress is the best record.
        at = notes.get(ANNOTATION + "deployed-at") if notes.get(ANNOTATION + "image") == image else _progressed(dep)
        return self._deployment(task, bento_tag, model_tag, image, _when(at))

    def client(self, deployment: Deployment) -> Client:
        return tagged_client(deployment.endpoint, self.settings.request_timeout, deployment.model_tag,
                             "the Service")

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        dep = self._read(task)  # an unreachable or failing API server: nothing has changed yet
        before = _image(dep)
        notes = dep.metadata.annotations or {}
        candidate = self._deployment(task, bento_tag, model_tag, image_tag or before, self._now())
        if image_tag is None or image_tag == before:
            # Nothing to roll out (a champion without an image of its own): adopt what runs if it is this model.
            try:
                running = self._served_by(task, before)[0]
                if running != model_tag:
                    raise DeployError(f"its image carries {running}")
                gate(candidate, self.client(candidate))
            except Exception as exc:
                raise DeployError(f"{_name(task)} runs {before}, which does not serve {model_tag} as trained "
                                  f"({exc}); build an image for it (container_backend)") from exc
            self._annotate(task, self._notes_for(candidate))
            return candidate
        previous = {"previous-image": before, "previous-model-tag": notes.get(ANNOTATION + "model-tag"),
                    "previous-bento-tag": notes.get(ANNOTATION + "bento-tag")}
        generation = self._set_image(task, image_tag, {**self._notes_for(candidate), **previous})
        try:
            self._await_rollout(task, generation)
            gate(candidate, self.client(candidate))
        except Exception as exc:  # noqa: BLE001 - every failure after the PATCH rolls back
            reason = f"{image_tag}: {exc}"
            restored = self._roll_back(task, reason)
            raise DeployError(f"{reason}; {restored}") from exc
        return candidate

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        check_live(task, self.current(task), self.client, check, f" through the Service of {_name(task)}")

    def rollback(self, task: str) -> Deployment | None:
        log.warning("%s: %s", task, self._roll_back(task, "verification failed after the rollout"))
        return self.current(task)

    # -- API calls ----------------------------------------------------------------------------
    def _read(self, task: str):
        from kubernetes.client.exceptions import ApiException

        try:
            return self.apps.read_namespaced_deployment(_name(task), self.namespace,
                                                        _request_timeout=self.settings.request_timeout)
        except ApiException as exc:
            if exc.status == 404:
                raise DeployError(f"no Deployment {_name(task)} in namespace {self.namespace}: "
                                  "apply the manifests of `zeta k8s render` first") from None
            raise _api_error(f"reading {_name(task)}", exc) from None
        except Exception as exc:  # noqa: BLE001 - timeouts, refused connections
            raise _api_error(f"reading {_name(task)}", exc) from None

    def _patch(self, task: str, body: dict):
        try:
            return self.apps.patch_namespaced_deployment(_name(task), self.namespace, body, _content_type=STRATEGIC,
                                                         _request_timeout=self.settings.request_timeout)
        except Exception as exc:  # noqa: BLE001
            raise _api_error(f"patching {_name(task)}", exc) from None

    def _set_image(self, task: str, image: str, notes: dict) -> int:
        body = {"metadata": {"annotations": {ANNOTATION + k: v for k, v in notes.items()}},
                "spec": {"template": {"spec": {"containers": [{"name": CONTAINER, "image": image}]}}}}
        return int(self._patch(task, body).metadata.generation or 0)

    def _annotate(self, task: str, notes: dict) -> None:
        self._patch(task, {"metadata": {"annotations": {ANNOTATION + k: v for k, v in notes.items()}}})

    def _roll_back(self, task: str, reason: str) -> str:
        """Put the previous image back; returns what happened, in words (never raises)."""
        try:
            notes = self._read(task).metadata.annotations or {}
            image = notes.get(ANNOTATION + "previous-image")
            if not image:
                return "no previous image recorded: nothing to roll back to"
            back = {"image": image, "model-tag": notes.get(ANNOTATION + "previous-model-tag"),
                    "bento-tag": notes.get(ANNOTATION + "previous-bento-tag"), "deployed-at": self._now().isoformat(),
                    "rollback-reason": reason[:1000], "previous-image": None, "previous-model-tag": None,
                    "previous-bento-tag": None}
            generation = self._set_image(task, image, back)
            self._await_rollout(task, generation)
            return f"rolled back to {image}"
        except Exception as exc:  # noqa: BLE001 - report, the loop alerts on it
            return f"rollback to the previous image did not complete: {exc}"

    def _await_rollout(self, task: str, generation: int) -> None:
        """Until the Deployment's rollout of `generation` completes; DeployError on deadline or timeout.

        Watches the one Deployment; a watch that ends early (server timeout, dropped
        connection) is resumed from a fresh read, so no state change is missed.
        """
        from kubernetes import watch

        deadline = time.monotonic() + self.settings.rollout_timeout
        while True:
            dep = self._read(task)
            if _rollout_done(dep, generation):
                return
            stalled = _stalled(dep, generation)
            if stalled:
                raise DeployError(f"the rollout of {_name(task)} stalled: {stalled}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeployError(f"the rollout of {_name(task)} did not complete in "
                                  f"{self.settings.rollout_timeout:g}s ({_progress(dep)})")
            stream = watch.Watch()
            try:
                for event in stream.stream(self.apps.list_namespaced_deployment, self.namespace,
                                           field_selector=f"metadata.name={_name(task)}",
                                           resource_version=dep.metadata.resource_version,
                                           timeout_seconds=max(1, min(self.settings.watch_seconds, int(left) + 1)),
                                           _request_timeout=min(left, self.settings.watch_seconds) + 5):
                    obj = event["object"]
                    if _rollout_done(obj, generation) or _stalled(obj, generation) or time.monotonic() > deadline:
                        break
            except Exception as exc:  # noqa: BLE001 - a broken watch is resumed after a fresh read
                log.info("watch on %s ended (%s); reading it again", _name(task), type(exc).__name__)
                time.sleep(self._poll)
            finally:
                stream.stop()

    # -- small pieces ---------------------------------------------------------------------------
    def _served_by(self, task: str, image: str) -> tuple[str, str | None]:
        """(model tag, bento tag) from the image's labels in its registry; UnknownImage if they cannot be read."""
        try:
            labels = self.labels.labels(image)
        except RegistryError as exc:
            raise UnknownImage(task, image, str(exc)) from None
        try:
            return served_model(labels, task), labels.get(BENTO_LABEL) or None
        except RegistryError as exc:
            raise UnknownImage(task, image, str(exc)) from None

    def _deployment(self, task, bento_tag, model_tag, image, at) -> Deployment:
        url = self.settings.service_url.format(name=_name(task), task=task, namespace=self.namespace)
        return Deployment(task, bento_tag, model_tag, url, at, image)

    @staticmethod
    def _notes_for(candidate: Deployment) -> dict:
        return {"model-tag": candidate.model_tag, "bento-tag": candidate.bento_tag or "",
                "image": candidate.image_tag, "deployed-at": candidate.deployed_at.isoformat()}

    def _now(self) -> datetime:
        return self._clock.now() if self._clock else datetime.now(timezone.utc)


def _name(task: str) -> str:
    return f"zeta-{task}"


def _image(dep) -> str:
    for container in dep.spec.template.spec.containers:
        if container.name == CONTAINER:
            return container.image
    raise DeployError(f"Deployment {dep.metadata.name} has no container named {CONTAINER!r}")


def _rollout_done(dep, generation: int) -> bool:
    """What `kubectl rollout status` calls complete: every replica updated, available, no old ones left."""
    status, wanted = dep.status, dep.spec.replicas if dep.spec.replicas is not None else 1
    if status is None or (status.observed_generation or 0) < generation:
        return False
    return ((status.updated_replicas or 0) >= wanted and (status.replicas or 0) <= (status.updated_replicas or 0)
            and (status.available_replicas or 0) >= (status.updated_replicas or 0))


def _stalled(dep, generation: int) -> str | None:
    status = dep.status
    if status is None or (status.observed_generation or 0) < generation:
        return None
    for condition in status.conditions or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return f"progress deadline exceeded ({condition.message or 'no new pod became ready'}; {_progress(dep)})"
    return None


def _progress(dep) -> str:
    s = dep.status
    if s is None:
        return "no status yet"
    return (f"{s.updated_replicas or 0} updated, {s.available_replicas or 0} available, "
            f"{s.unavailable_replicas or 0} unavailable of {dep.spec.replicas}")


def _progressed(dep) -> str | None:
    for condition in (dep.status.conditions or []) if dep.status else []:
        if condition.type == "Progressing" and condition.last_update_time:
            return condition.last_update_time.isoformat()
    return None


def _when(text: str | None) -> datetime:
    try:
        return datetime.fromisoformat(text) if text else datetime.now(timezone.utc)
    except ValueError:
        return datetime.now(timezone.utc)
