"""deploy/k8s/: every manifest validates (strictly: no unknown fields) against the
Kubernetes OpenAPI schemas that kubernetes-validate ships, offline; the replicas, probes,
resources and autoscaling are the agreed numbers; the pieces refer to each other and to
deploy/nginx.conf consistently; the Secret is a template without values."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, cast

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
# The oldest and the newest Kubernetes the bundled schemas cover that we check against.
VERSIONS = ["1.29.0", str(kubernetes_validate.latest_version())]
NAMESPACE = "knitter"

Resource = dict[str, Any]


def manifests() -> dict[str, list[Resource]]:
    found: dict[str, list[Resource]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found[path.name] = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def resources() -> list[Resource]:
    return [r for docs in manifests().values() for r in docs]


def one(kind: str, name: str) -> Resource:
    matches = [r for r in resources() if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}"
    return matches[0]


def validate(resource: Resource, version: str) -> None:
    kubernetes_validate.validate(resource, version, strict=True)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "resource",
    resources(),
    ids=lambda r: f"{r['kind']}/{r['metadata']['name']}",
)
def test_valid_against_the_kubernetes_schemas(resource: Resource, version: str) -> None:
    validate(resource, version)


def test_the_validator_catches_mistakes() -> None:
    api = one("Deployment", "api")
    wrong_type = copy.deepcopy(api)
    wrong_type["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(wrong_type, VERSIONS[-1])
    unknown_field = copy.deepcopy(api)
    unknown_field["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(unknown_field, VERSIONS[-1])


def test_every_kind_is_there_in_one_namespace() -> None:
    kinds = sorted((r["kind"], r["metadata"]["name"]) for r in resources())
    assert kinds == [
        ("ConfigMap", "knitter-config"),
        ("Deployment", "api"),
        ("Deployment", "frontend"),
        ("HorizontalPodAutoscaler", "api"),
        ("Ingress", "knitter"),
        ("Namespace", NAMESPACE),
        ("Secret", "knitter-secrets"),
        ("Service", "api"),
        ("Service", "frontend"),
    ]
    for r in resources():
        if r["kind"] != "Namespace":
            assert r["metadata"]["namespace"] == NAMESPACE, r["metadata"]["name"]


def container(deployment: Resource) -> Resource:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return cast(Resource, containers[0])


def test_api_deployment() -> None:
    api = one("Deployment", "api")
    assert api["spec"]["replicas"] == 3
    c = container(api)
    assert c["resources"] == {
        "requests": {"memory": "256Mi", "cpu": "250m"},
        "limits": {"memory": "512Mi", "cpu": "500m"},
    }
    live, ready = c["livenessProbe"], c["readinessProbe"]
    assert live["httpGet"]["path"] == "/livez"  # not /health: the database down is no hang
    assert (live["initialDelaySeconds"], live["periodSeconds"]) == (30, 10)
    assert ready["httpGet"]["path"] == "/health"
    assert (ready["initialDelaySeconds"], ready["periodSeconds"]) == (5, 5)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 8000}
    sources = [next(iter(s.values()))["name"] for s in c["envFrom"]]
    assert sources == ["knitter-config", "knitter-secrets"]
    # Dockerfile.api's user.
    assert api["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
    assert "useradd --create-home --uid 10001" in (ROOT / "Dockerfile.api").read_text()


def test_frontend_deployment() -> None:
    frontend = one("Deployment", "frontend")
    assert frontend["spec"]["replicas"] == 2
    c = container(frontend)
    assert c["resources"] == {
        "requests": {"memory": "128Mi", "cpu": "100m"},
        "limits": {"memory": "256Mi", "cpu": "200m"},
    }
    # Behind the ingress, nginx's plain-HTTP server (no redirect to HTTPS).
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080}
    assert "listen 8080;" in (ROOT / "deploy" / "nginx.conf").read_text()
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_services_select_their_pods() -> None:
    for name in ("api", "frontend"):
        service, deployment = one("Service", name), one("Deployment", name)
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        named_ports = {p["name"] for p in container(deployment)["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in named_ports
    # deploy/nginx.conf proxies to `api:8000`.
    assert one("Service", "api")["spec"]["ports"][0]["port"] == 8000
    assert "server api:8000;" in (ROOT / "deploy" / "nginx.conf").read_text()


def test_ingress_routes_to_the_frontend_over_tls() -> None:
    ingress = one("Ingress", "knitter")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert (path["path"], backend["name"]) == ("/", "frontend")
    ports = {p["name"] for p in one("Service", "frontend")["spec"]["ports"]}
    assert backend["port"]["name"] in ports


def test_autoscaler() -> None:
    hpa = one("HorizontalPodAutoscaler", "api")
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 10)
    (metric,) = spec["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    # Utilization is relative to the request: the api must request CPU.
    assert container(one("Deployment", "api"))["resources"]["requests"]["cpu"]


def test_secret_is_only_a_template() -> None:
    secret = one("Secret", "knitter-secrets")
    assert "data" not in secret
    placeholder = re.compile(r"^(|<[^<>]+>)$")
    for key, value in secret["stringData"].items():
        assert placeholder.match(value), f"{key} holds a value, not a placeholder"
    # Every secret and setting the API reads is provided by one of the two.
    config = one("ConfigMap", "knitter-config")["data"]
    assert not set(config) & set(secret["stringData"])
    example = (ROOT / ".env.example").read_text()
    variables = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert variables <= set(config) | set(secret["stringData"])


def test_kustomization_lists_everything_but_the_secret_template() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == NAMESPACE
    assert sorted(kustomization["resources"]) == sorted(
        name for name in manifests() if name != "secret.template.yaml"
    )
