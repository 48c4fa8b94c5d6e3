"""`zeta k8s render`: every object passes Kubernetes' own schemas (strict), the base builds with kustomize."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.cli import run_cli
from zeta_serving.k8s.render import serving_tasks

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version() + ".0"]


def render(tmp_path, capsys, *extra) -> tuple[Path, dict]:
    out = tmp_path / "base"
    code, stdout, err = run_cli(["k8s", "render", "--out", str(out), "--namespace", "shop",
                                 "--registry", "127.0.0.1:5000/ml", "--image-tag", "2026.11",
                                 "--config", str(ROOT / "zeta.toml"), *extra], capsys)
    assert code == 0, err
    assert "kubectl apply -k" in stdout
    found = {}
    for path in sorted(out.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            obj = yaml.safe_load(path.read_text())
            found[(obj["kind"], obj["metadata"]["name"])] = obj
    return out, found


@pytest.fixture(params=["deployment", "cronjob"])
def rendered(request, tmp_path, capsys):
    extra = ["--loop", request.param] + (["--all-in-one"] if request.param == "deployment" else [])
    return (request.param, *render(tmp_path, capsys, *extra))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_validates_strictly(rendered, version):
    _, _, found = rendered
    assert len(found) >= 4 * len(serving_tasks())
    for obj in found.values():
        # Raises on any unknown field, wrong type or missing required field for that Kubernetes version.
        kubernetes_validate.validate(obj, version, strict=True)


def test_strict_validation_catches_an_unknown_field(rendered):
    _, _, found = rendered
    broken = dict(found[("Deployment", "zeta-price")])
    broken["spec"] = dict(broken["spec"], maxUnavailable=0)  # belongs under strategy.rollingUpdate
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomize_builds_the_base(rendered):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (Debian: kubernetes-client)")
    form, out, found = rendered
    done = subprocess.run([kubectl, "kustomize", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    built = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert {(d["kind"], d["metadata"]["name"]) for d in built} == set(found)
    assert {d["metadata"]["namespace"] for d in built} == {"shop"}


def test_one_deployment_service_and_budget_per_model(rendered):
    _, _, found = rendered
    for task in serving_tasks():
        name = f"zeta-{task}"
        dep = found[("Deployment", name)]
        spec = dep["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        pod = spec["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"] == f"127.0.0.1:5000/ml/{name}:2026.11"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["startupProbe"]["httpGet"]["path"] == "/livez"  # loading and the self-check take time
        assert set(container["resources"]) == {"requests", "limits"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        notes = spec["template"]["metadata"]["annotations"]
        assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics"
        service = found[("Service", name)]
        assert service["spec"]["selector"] == spec["selector"]["matchLabels"]
        budget = found[("PodDisruptionBudget", name)]
        assert budget["spec"]["selector"] == spec["selector"] and budget["spec"]["minAvailable"] == 1


def test_the_all_in_one_is_an_option(rendered):
    form, _, found = rendered
    assert (("Deployment", "zeta-suggest") in found) == (form == "deployment")  # rendered with --all-in-one


def test_the_loop_in_either_form(rendered):
    form, _, found = rendered
    if form == "deployment":
        loop = found[("Deployment", "zeta-maintain")]
        assert loop["spec"]["replicas"] == 1 and loop["spec"]["strategy"]["type"] == "Recreate"
        pod = loop["spec"]["template"]["spec"]
        assert pod["containers"][0]["args"] == ["maintain", "--deployer", "kubernetes", "--health-port", "9090",
                                                "--leader", "kubernetes"]
        assert pod["containers"][0]["readinessProbe"]["httpGet"]["port"] == "health"
        assert ("CronJob", "zeta-maintain") not in found
    else:
        job = found[("CronJob", "zeta-maintain")]
        assert job["spec"]["concurrencyPolicy"] == "Forbid"
        assert job["spec"]["schedule"] == "0 6 * * *"  # the config's schedule
        pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["containers"][0]["args"] == ["maintain", "--once", "--deployer", "kubernetes"]
        assert ("Deployment", "zeta-maintain") not in found
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["ZETA_DB_URL"]["valueFrom"]["secretKeyRef"]["key"] == "database-url"
    assert env["ZETA_ALERT_WEBHOOK_URL"]["valueFrom"]["secretKeyRef"]["optional"] is True
    assert env["ZETA_CONFIG"]["value"] == "/etc/zeta/zeta.toml"
    assert pod["serviceAccountName"] == "zeta-maintain"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["home"]["persistentVolumeClaim"]["claimName"] == "zeta-bentoml-home"
    assert ("PersistentVolumeClaim", "zeta-bentoml-home") in found
    config = found[("ConfigMap", "zeta-config")]
    assert config["data"]["zeta.toml"] == (ROOT / "zeta.toml").read_text()


def test_least_privilege_role(rendered):
    _, _, found = rendered
    role = found[("Role", "zeta-maintain")]
    deployments = {name for kind, name in found if kind == "Deployment" and name != "zeta-maintain"}
    for rule in role["rules"]:
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert rule.get(field) and "*" not in rule[field], (field, rule)
        assert not {"create", "delete", "deletecollection", "escalate", "bind"} & set(rule["verbs"])
    (apps,) = [r for r in role["rules"] if r["apiGroups"] == ["apps"]]
    assert set(apps["resourceNames"]) == deployments  # the serving Deployments, not the loop's own
    binding = found[("RoleBinding", "zeta-maintain")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "zeta-maintain", "namespace": "shop"}]


@pytest.mark.parametrize("args, message", [
    (["--namespace", "Bad_NS"], "--namespace 'Bad_NS' is not a Kubernetes namespace name"),
    (["--image-tag", "a b"], "--image-tag 'a b' is not an image tag"),
    (["--registry", "https://127.0.0.1:5000"], "without a scheme"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    code, _, err = run_cli(["k8s", "render", "--out", str(tmp_path / "o"), *args], capsys)
    assert code == 1
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_spinnaker_hand_off_renders_a_loop_that_elects_through_the_database(tmp_path, capsys):
    _, found = render(tmp_path, capsys, "--deployer", "spinnaker")
    args = found[("Deployment", "zeta-maintain")]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == ["maintain", "--deployer", "spinnaker", "--health-port", "9090", "--leader", "database"]
    env = {e["name"]: e for e in found[("Deployment", "zeta-maintain")]["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
    assert env["ZETA_SPINNAKER_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "zeta-secrets",
                                                                         "key": "spinnaker-token", "optional": True}


def test_the_loop_gets_buildahs_privileges_only_when_it_builds_images(tmp_path, capsys):
    """buildah in a pod (vfs, chroot) needs root and CAP_SYS_ADMIN; a loop that builds nothing gets neither."""

    def loop_pod(config_text):
        config = tmp_path / f"zeta-{len(config_text)}.toml"
        config.write_text(config_text)
        out = tmp_path / f"base-{len(config_text)}"
        code, _, err = run_cli(["k8s", "render", "--out", str(out), "--config", str(config)], capsys)
        assert code == 0, err
        obj = yaml.safe_load((out / "deployment-zeta-maintain.yaml").read_text())
        for version in VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)
        return obj["spec"]["template"]["spec"]

    plain = loop_pod("[maintenance]\n")
    assert plain["securityContext"]["runAsNonRoot"] is True
    assert plain["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    builder = loop_pod('[maintenance]\ncontainer_backend = "buildah"\ncontainer_registry = "registry.example/ml"\n')
    assert builder["securityContext"]["runAsUser"] == 0 and builder["securityContext"]["runAsNonRoot"] is False
    assert builder["containers"][0]["securityContext"]["capabilities"] == {"add": ["SYS_ADMIN"]}
