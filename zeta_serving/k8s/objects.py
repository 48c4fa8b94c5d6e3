"""The Kubernetes objects zeta runs as, as plain dicts (one function per kind of workload).

Every pod runs as a non-root user with no added capabilities, except the maintenance loop's when
it builds images (`container_backend` in the shipped config): buildah in a pod, with vfs storage
and chroot isolation, must be root with CAP_SYS_ADMIN on top of the runtime's default
capabilities (without it, buildah takes itself for rootless and fails to create a user
namespace; containers/maintain/Containerfile). Every serving Deployment
rolls with `maxUnavailable: 0`, so a new pod takes traffic only once its `/readyz`
answers, and a bento's `/readyz` answers only after its golden cases passed inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PART_OF = "zeta-serving"
SERVE_PORT = 3000  # BentoML's default HTTP port inside every bento image
LOOP_HEALTH_PORT = 9090  # the maintenance loop's /healthz, /readyz, /metrics
LOOP_NAME = "zeta-maintain"
SECRET_NAME = "zeta-secrets"  # created by the team: database-url, webhook-url, spinnaker-token
CONFIG_NAME = "zeta-config"
HOME_CLAIM = "zeta-bentoml-home"
LEASE_NAME = "zeta-maintain"
BENTO_UID = 1034  # the `bentoml` user BentoML's generated Containerfiles create


@dataclass(frozen=True)
class Resources:
    cpu_request: str = "250m"
    memory_request: str = "768Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1536Mi"

    def as_dict(self) -> dict:
        return {"requests": {"cpu": self.cpu_request, "memory": self.memory_request},
                "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit}}


@dataclass(frozen=True)
class Settings:
    namespace: str = "zeta"
    registry: str = ""  # "" : image names without a registry (a local cluster's own store)
    image_tag: str = "latest"
    replicas: int = 2
    resources: Resources = field(default_factory=Resources)
    loop_resources: Resources = field(default_factory=lambda: Resources("500m", "1Gi", "2", "4Gi"))
    home_size: str = "20Gi"
    deployer: str = "kubernetes"
    builds_images: bool = False  # the loop builds and pushes bento images (container_backend is set)

    def image(self, name: str) -> str:
        prefix = f"{self.registry.rstrip('/')}/" if self.registry else ""
        return f"{prefix}{name}:{self.image_tag}"


def labels(name: str, component: str) -> dict:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": PART_OF}


def _meta(name: str, settings: Settings, component: str, **extra) -> dict:
    return {"name": name, "namespace": settings.namespace, "labels": labels(name, component), **extra}


def _scrape(port: int) -> dict:
    return {"prometheus.io/scrape": "true", "prometheus.io/port": str(port), "prometheus.io/path": "/metrics"}


def _pod_security() -> dict:
    return {"runAsNonRoot": True, "runAsUser": BENTO_UID, "runAsGroup": BENTO_UID, "fsGroup": BENTO_UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


def _container_security() -> dict:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def _builder_pod_security() -> dict:
    return {"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False, "seccompProfile": {"type": "RuntimeDefault"}}


def _builder_container_security() -> dict:
    # SYS_ADMIN implies privilege escalation (the API server refuses it with allowPrivilegeEscalation
    # false); the runtime's default capabilities stay (chroot, setuid and chown during a build).
    return {"capabilities": {"add": ["SYS_ADMIN"]}}


def _probe(path: str, port: str, *, period: int, failures: int, timeout: int = 5) -> dict:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": timeout,
            "failureThreshold": failures}


def serving(name: str, component: str, settings: Settings, env: list[dict] | None = None) -> list[dict]:
    """Deployment, Service and PodDisruptionBudget of one bento image (`name` is its image name)."""
    selector = {"app.kubernetes.io/name": name}
    container = {
        "name": "bento",
        "image": settings.image(name),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": SERVE_PORT, "protocol": "TCP"}],
        "env": [{"name": "BENTOML_DO_NOT_TRACK", "value": "true"}, *(env or [])],
        # Loading the model and replaying its golden cases takes a while: the startup probe
        # covers it, so liveness never kills a pod that is still checking itself.
        "startupProbe": _probe("/livez", "http", period=5, failures=60),
        "livenessProbe": _probe("/livez", "http", period=10, failures=3),
        "readinessProbe": _probe("/readyz", "http", period=5, failures=2),
        "resources": settings.resources.as_dict(),
        "securityContext": _container_security(),
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(name, settings, component),
        "spec": {
            "replicas": settings.replicas,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(name, component), "annotations": _scrape(SERVE_PORT)},
                "spec": {"securityContext": _pod_security(), "terminationGracePeriodSeconds": 30,
                         "containers": [container]},
            },
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": _meta(name, settings, component),
        "spec": {"type": "ClusterIP", "selector": selector,
                 "ports": [{"name": "http", "port": SERVE_PORT, "targetPort": "http", "protocol": "TCP"}]},
    }
    budget = {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": _meta(name, settings, component),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
    }
    return [deployment, service, budget]


def loop_access(settings: Settings, deployments: list[str]) -> list[dict]:
    """ServiceAccount, Role, RoleBinding: read and re-image the named Deployments, hold the named Lease.

    Nothing else: no create/delete, no pods, no secrets (they arrive as environment
    variables), no wildcards. `watch` on one named object is what the client's
    field-selected watch asks for; the Lease exists because this base creates it.
    """
    name = LOOP_NAME
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, settings, "maintenance")}
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": _meta(name, settings, "maintenance"),
        "rules": [
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": sorted(deployments),
             "verbs": ["get", "list", "watch", "patch"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": [LEASE_NAME],
             "verbs": ["get", "update"]},
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": _meta(name, settings, "maintenance"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": settings.namespace}],
    }
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": _meta(LEASE_NAME, settings, "maintenance"), "spec": {}}
    return [account, role, binding, lease]


def config_map(settings: Settings, toml_text: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(CONFIG_NAME, settings, "maintenance"),
            "data": {"zeta.toml": toml_text}}


def home_claim(settings: Settings) -> dict:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": _meta(HOME_CLAIM, settings, "maintenance"),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": settings.home_size}}}}


def _secret_env(var: str, key: str, *, optional: bool) -> dict:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key, "optional": optional}}}


def _loop_pod(settings: Settings, args: list[str], *, restart: str) -> dict:
    container = {
        "name": "maintain",
        "image": settings.image(LOOP_NAME),
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": [
            {"name": "BENTOML_DO_NOT_TRACK", "value": "true"},
            {"name": "BENTOML_HOME", "value": "/var/lib/zeta/bentoml"},
            {"name": "ZETA_HOME", "value": "/var/lib/zeta/home"},
            {"name": "ZETA_CONFIG", "value": "/etc/zeta/zeta.toml"},
            {"name": "ZETA_LOG_FORMAT", "value": "json"},
            {"name": "ZETA_K8S_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            _secret_env("ZETA_DB_URL", "database-url", optional=False),
            _secret_env("ZETA_ALERT_WEBHOOK_URL", "webhook-url", optional=True),
            _secret_env("ZETA_SPINNAKER_TOKEN", "spinnaker-token", optional=True),
        ],
        "ports": [{"name": "health", "containerPort": LOOP_HEALTH_PORT, "protocol": "TCP"}],
        "resources": settings.loop_resources.as_dict(),
        "securityContext": _builder_container_security() if settings.builds_images else _container_security(),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/zeta", "readOnly": True},
                         {"name": "home", "mountPath": "/var/lib/zeta"}],
    }
    if restart == "Always":
        container["livenessProbe"] = _probe("/healthz", "health", period=30, failures=3)
        container["readinessProbe"] = _probe("/readyz", "health", period=10, failures=3)
    return {
        "serviceAccountName": LOOP_NAME,
        "securityContext": _builder_pod_security() if settings.builds_images else _pod_security(),
        "restartPolicy": restart,
        # A cycle in progress finishes its stage or is recorded failed: SIGTERM, then this long.
        "terminationGracePeriodSeconds": 60,
        "containers": [container],
        "volumes": [{"name": "config", "configMap": {"name": CONFIG_NAME}},
                    {"name": "home", "persistentVolumeClaim": {"claimName": HOME_CLAIM}}],
    }


def loop_deployment(settings: Settings) -> dict:
    """The scheduler form: one replica; `Recreate`, so an update never runs two leaders on one volume."""
    selector = {"app.kubernetes.io/name": LOOP_NAME}
    leader = "kubernetes" if settings.deployer == "kubernetes" else "database"
    args = ["maintain", "--deployer", settings.deployer, "--health-port", str(LOOP_HEALTH_PORT), "--leader", leader]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": _meta(LOOP_NAME, settings, "maintenance"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "strategy": {"type": "Recreate"},
            "template": {
                "metadata": {"labels": labels(LOOP_NAME, "maintenance"), "annotations": _scrape(LOOP_HEALTH_PORT)},
                "spec": _loop_pod(settings, args, restart="Always"),
            },
        },
    }


def loop_cronjob(settings: Settings, schedule: str) -> dict:
    """The batch form: `zeta maintain --once` on the config's schedule, never two at a time."""
    args = ["maintain", "--once", "--deployer", settings.deployer]
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": _meta(LOOP_NAME, settings, "maintenance"),
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "jobTemplate": {"spec": {
                "backoffLimit": 0,  # a failed cycle is recorded and alerted; the next schedule tries again
                "activeDeadlineSeconds": 6 * 3600,
                "template": {"metadata": {"labels": labels(LOOP_NAME, "maintenance")},
                             "spec": _loop_pod(settings, args, restart="Never")},
            }},
        },
    }
