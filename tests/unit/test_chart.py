"""The Helm chart (helm/stancewire) and the Dockerfile, offline: no cluster, no helm binary.

helm-python-sdk embeds Helm 4's engine (libhelm_c, through ctypes): the chart is linted and
rendered for the default values and every ``helm/stancewire/ci/*-values.yaml``, the rendered
objects are checked against the Kubernetes JSON schemas bundled in kubernetes-validate, and
the tests assert what the chart promises (probes, security contexts, checksums that roll
pods, optional objects that appear only when enabled, the rule file in the PrometheusRule).

The chart README's values table is generated from the ``# --`` comments of values.yaml:

    .venv/bin/python -m tests.unit.test_chart --write-readme
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumers.subscriptions import SubscriptionsFile
from schemas import Stance, Topic
from schemas.desks import Desks

try:  # the package loads its native Helm engine on import
    import helm_python as helm
except Exception as exc:  # ImportError, or HelmLibraryError: wrong arch, missing library
    HELM_SKIP = f"helm-python-sdk cannot load its Helm engine here: {exc!r}"
else:
    HELM_SKIP = ""

try:
    import kubernetes_validate  # type: ignore[import-untyped]
except ImportError as exc:
    K8S_SKIP = f"kubernetes-validate is not installed: {exc}"
else:
    K8S_SKIP = ""

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "stancewire"
README = CHART / "README.md"
RULES = CHART / "files" / "prometheus-rules.yaml"
DASHBOARD = CHART / "files" / "grafana-dashboard.json"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "sw"
NAMESPACE = "desks"
FULLNAME = f"{RELEASE}-stancewire"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas.
KUBE_VERSIONS = ("1.25.0", "1.37.0")
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
JOBS = {
    "worker": "stancewire-worker",
    "gateway": "stancewire-gateway",
    "dispatcher": "stancewire-dispatcher",
    "feeds": "stancewire-ingest",
}
FEEDS: dict[str, Any] = {
    "enabled": True,
    "config": {"feeds": [{"name": "wire-a", "url": "https://news.example.com/rss"}]},
}
MISSING_SUBCHARTS = "chart directory is missing these dependencies: kafka,redis"

needs_helm = pytest.mark.skipif(bool(HELM_SKIP), reason=HELM_SKIP)

Manifest = dict[str, Any]


# --- rendering ----------------------------------------------------------------------------


def ci_values(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text()) or {}
    assert isinstance(loaded, dict)
    return loaded


VALUE_SETS = [pytest.param(None, id="default"), *(pytest.param(p, id=p.stem) for p in CI_VALUES)]


@functools.cache
def _render(values_json: str) -> tuple[tuple[str, str], ...]:
    with helm.Chart.load(CHART) as chart:
        rendered = chart.render(
            json.loads(values_json), name=RELEASE, namespace=NAMESPACE, is_install=True
        )
    return tuple(sorted(rendered.items()))


def render_files(values: dict[str, Any] | None = None) -> dict[str, str]:
    return dict(_render(json.dumps(values or {}, sort_keys=True)))


def render(values: dict[str, Any] | None = None) -> list[Manifest]:
    """Every object the chart renders (NOTES.txt and empty templates left out)."""
    objects: list[Manifest] = []
    for name, text in render_files(values).items():
        if name.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if document:
                assert isinstance(document, dict), f"{name}: not a mapping"
                objects.append(document)
    return objects


def values_of(case: Path | None) -> dict[str, Any] | None:
    return None if case is None else ci_values(case)


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[Manifest], kind: str, name: str) -> Manifest:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def deployment(objects: list[Manifest], component: str) -> Manifest:
    return one(objects, "Deployment", f"{FULLNAME}-{component}")


def pod_annotations(objects: list[Manifest], component: str) -> dict[str, str]:
    annotations: dict[str, str] = deployment(objects, component)["spec"]["template"]["metadata"][
        "annotations"
    ]
    return annotations


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def containers(objects: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    for workload in of_kind(objects, "Deployment"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            yield workload, container


def with_values(*overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge value overrides (later ones win)."""
    merged: dict[str, Any] = {}
    for override in overrides:
        _merge(merged, copy.deepcopy(override))
    return merged


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


# --- lint, render, Kubernetes schemas ------------------------------------------------------


@needs_helm
@pytest.mark.parametrize("case", VALUE_SETS)
def test_chart_lints_clean(case: Path | None) -> None:
    report = helm.lint(CHART, values_of(case), namespace=NAMESPACE)
    assert report["errors"] == []
    # The only warning allowed: the optional Bitnami subcharts are declared, not vendored.
    warnings = [m["error"] for m in report["messages"] if m["severity"] >= 2]
    assert warnings in ([], [MISSING_SUBCHARTS]), warnings


@needs_helm
@pytest.mark.skipif(bool(K8S_SKIP), reason=K8S_SKIP)
@pytest.mark.parametrize("case", VALUE_SETS)
def test_rendered_objects_match_the_kubernetes_schemas(case: Path | None) -> None:
    objects = render(values_of(case))
    checked = 0
    for manifest in objects:
        assert manifest["metadata"]["name"].startswith(FULLNAME), manifest["metadata"]
        assert manifest["metadata"].get("namespace") == NAMESPACE
        if manifest["kind"] in CRD_KINDS:  # no schema bundled: checked by the tests below
            continue
        for version in KUBE_VERSIONS:
            kubernetes_validate.validate(manifest, version, strict=True)
        checked += 1
    assert checked >= 3  # at least a Deployment, its metrics Service and the Secret


@needs_helm
def test_default_release_objects() -> None:
    kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in render())
    assert kinds == sorted(
        [
            f"Deployment/{FULLNAME}-worker",
            f"Deployment/{FULLNAME}-gateway",
            f"Deployment/{FULLNAME}-dispatcher",
            f"Service/{FULLNAME}-gateway",
            f"Service/{FULLNAME}-worker-metrics",
            f"Service/{FULLNAME}-gateway-metrics",
            f"Service/{FULLNAME}-dispatcher-metrics",
            f"PodDisruptionBudget/{FULLNAME}-worker",
            f"PodDisruptionBudget/{FULLNAME}-gateway",
            f"PodDisruptionBudget/{FULLNAME}-dispatcher",
            f"Secret/{FULLNAME}",
            f"ServiceAccount/{FULLNAME}",
            f"Pod/{FULLNAME}-test-gateway",
        ]
    )


# --- pods: probes, security, resources, environment ----------------------------------------


@needs_helm
@pytest.mark.parametrize("case", VALUE_SETS)
def test_every_container_has_probes_security_and_resources(case: Path | None) -> None:
    objects = render(values_of(case))
    seen = 0
    for workload, container in containers(objects):
        where = f"{workload['metadata']['name']}/{container['name']}"
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert "metrics" in ports, where
        for probe in ("livenessProbe", "readinessProbe"):
            assert probe in container, f"{where}: no {probe}"
            action = container[probe].get("httpGet") or container[probe].get("tcpSocket")
            assert action, f"{where}: {probe} neither HTTP nor TCP"
            assert action["port"] in ports, f"{where}: {probe} on an undeclared port"
        security = container["securityContext"]
        assert security["runAsNonRoot"] is True, where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        assert security["seccompProfile"]["type"] == "RuntimeDefault", where
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
        env = env_of(container)
        assert env["STANCEWIRE_METRICS_HOST"]["value"] == "0.0.0.0", where
        assert env["STANCEWIRE_METRICS_PORT"]["value"] == str(ports["metrics"]), where
        assert "STANCEWIRE_BOOTSTRAP" in env, where
        assert "STANCEWIRE_REDIS_URL" in env, where
        # The root filesystem is read-only: /tmp and the working directory are emptyDirs.
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", container["workingDir"]} <= mounts, where
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        seen += 1
    assert seen >= 1


@needs_helm
def test_gateway_probes_and_listen_address() -> None:
    gateway = deployment(render(), "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["args"] == ["gateway"]
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    env = env_of(gateway)
    assert env["STANCEWIRE_HOST"]["value"] == "0.0.0.0"
    assert env["STANCEWIRE_PORT"]["value"] == "8000"
    assert env["STANCEWIRE_TOKENS_FILE"]["value"] == "/etc/stancewire/secrets/tokens.json"
    for component in ("worker", "dispatcher"):
        container = deployment(render(), component)["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == [component]
        assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}


@needs_helm
def test_helm_test_pod_curls_the_gateway_health() -> None:
    pod = one(render(), "Pod", f"{FULLNAME}-test-gateway")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["curl"]
    assert container["args"][-1] == f"http://{FULLNAME}-gateway:8000/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


# --- workers: replicas, partitions, autoscaling, disruption budget --------------------------


@needs_helm
def test_worker_replicas_are_respected() -> None:
    assert deployment(render(), "worker")["spec"]["replicas"] == 2
    objects = render({"worker": {"replicas": 3}})
    assert deployment(objects, "worker")["spec"]["replicas"] == 3
    assert one(objects, "PodDisruptionBudget", f"{FULLNAME}-worker")["spec"] == {
        "maxUnavailable": 1,
        "selector": deployment(objects, "worker")["spec"]["selector"],
    }


@needs_helm
def test_worker_replicas_beyond_the_partitions_are_refused() -> None:
    with pytest.raises(helm.HelmError, match="headlinesPartitions"):
        render({"worker": {"replicas": 5}})
    with pytest.raises(helm.HelmError, match="headlinesPartitions"):
        render({"worker": {"autoscaling": {"enabled": True, "maxReplicas": 5}}})
    objects = render({"worker": {"replicas": 8}, "externalKafka": {"headlinesPartitions": 8}})
    assert deployment(objects, "worker")["spec"]["replicas"] == 8


@needs_helm
def test_worker_autoscaling_replaces_replicas() -> None:
    objects = render({"worker": {"autoscaling": {"enabled": True, "minReplicas": 2}}})
    assert "replicas" not in deployment(objects, "worker")["spec"]
    hpa = one(objects, "HorizontalPodAutoscaler", f"{FULLNAME}-worker")
    assert hpa["spec"]["scaleTargetRef"]["name"] == f"{FULLNAME}-worker"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert not of_kind(render(), "HorizontalPodAutoscaler")


# --- checksums roll the pods that read a changed ConfigMap or Secret ------------------------


def _lexicon(code: str) -> str:
    line = {"kind": "government", "code": code, "names": [code], "demonyms": [], "metonyms": []}
    return json.dumps(line) + "\n"


@needs_helm
def test_lexicon_override_is_mounted_and_its_checksum_rolls_the_workers() -> None:
    plain = render()
    first = render({"lexicon": {"override": _lexicon("JP")}})
    second = render({"lexicon": {"override": _lexicon("CN")}})

    assert not [o for o in of_kind(plain, "ConfigMap") if o["metadata"]["name"].endswith("lexicon")]
    config = one(first, "ConfigMap", f"{FULLNAME}-lexicon")
    assert config["data"]["lexicon.jsonl"] == _lexicon("JP").rstrip("\n")
    worker = deployment(first, "worker")["spec"]["template"]["spec"]
    env = env_of(worker["containers"][0])
    assert env["STANCEWIRE_LEXICON_PATH"]["value"] == "/etc/stancewire/lexicon/lexicon.jsonl"
    assert "STANCEWIRE_LEXICON_PATH" not in env_of(
        deployment(plain, "worker")["spec"]["template"]["spec"]["containers"][0]
    )
    volumes = {v["name"]: v for v in worker["volumes"]}
    assert volumes["lexicon"]["configMap"]["name"] == f"{FULLNAME}-lexicon"

    sums = [pod_annotations(o, "worker")["checksum/lexicon"] for o in (plain, first, second)]
    assert len(set(sums)) == 3
    # Only the workers read the lexicon: the other pods do not roll.
    for component in ("gateway", "dispatcher"):
        assert pod_annotations(first, component) == pod_annotations(second, component)
    # Without the roll, the workers reload the mounted file themselves.
    reloading = render({"lexicon": {"override": _lexicon("JP"), "rollOnChange": False}})
    assert "checksum/lexicon" not in pod_annotations(reloading, "worker")
    assert one(reloading, "ConfigMap", f"{FULLNAME}-lexicon")["data"] == config["data"]


@needs_helm
def test_subscriptions_checksum_rolls_the_dispatcher_only() -> None:
    subscription = {
        "id": "macro-desk",
        "desk": "macro",
        "url": "https://hooks.example.com/a",
        "secrets": ["whsec_0123456789abcdef"],
    }
    changed = dict(subscription, url="https://hooks.example.com/b")
    before = render({"dispatcher": {"subscriptions": [subscription]}})
    after = render({"dispatcher": {"subscriptions": [changed]}})
    key = "checksum/subscriptions"
    assert pod_annotations(before, "dispatcher")[key] != pod_annotations(after, "dispatcher")[key]
    for component in ("worker", "gateway"):
        assert pod_annotations(before, component) == pod_annotations(after, component)


@needs_helm
def test_tokens_and_connection_checksums() -> None:
    desk = {"desk": "macro", "token_sha256": "a" * 64}
    before, after = render(), render({"gateway": {"desks": [desk]}})
    assert pod_annotations(before, "gateway") != pod_annotations(after, "gateway")
    assert pod_annotations(before, "worker") == pod_annotations(after, "worker")
    moved = render({"externalRedis": {"url": "redis://elsewhere:6379/0"}})
    for component in ("worker", "gateway", "dispatcher"):
        key = "checksum/connection"
        assert pod_annotations(before, component)[key] != pod_annotations(moved, component)[key]


# --- secrets --------------------------------------------------------------------------------


def _secret_data(objects: list[Manifest]) -> dict[str, str]:
    secret = one(objects, "Secret", FULLNAME)
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


@needs_helm
def test_chart_secret_is_what_the_gateway_and_dispatcher_load() -> None:
    objects = render(ci_values(CHART / "ci" / "chart-secret-values.yaml"))
    data = _secret_data(objects)
    assert set(data) == {
        "tokens.json",
        "subscriptions.json",
        "redis-password",
        "kafka-sasl-password",
        "kafka-ca.crt",
    }
    # The files parse with the very models the processes load them with.
    desks = Desks.model_validate_json(data["tokens.json"])
    assert [d.desk for d in desks.desks] == ["macro", "rates"]
    subscriptions = SubscriptionsFile.model_validate_json(data["subscriptions.json"])
    assert [s.id for s in subscriptions.subscriptions] == ["macro-desk"]
    assert data["redis-password"] == "redis-password-for-ci"
    assert data["kafka-ca.crt"].startswith("-----BEGIN CERTIFICATE-----")

    worker = deployment(objects, "worker")["spec"]["template"]["spec"]["containers"][0]
    names = [entry["name"] for entry in worker["env"]]
    env = env_of(worker)
    # Kubernetes expands $(VAR) only from variables defined before.
    assert names.index("STANCEWIRE_REDIS_PASSWORD") < names.index("STANCEWIRE_REDIS_URL")
    assert env["STANCEWIRE_REDIS_URL"]["value"] == (
        "redis://:$(STANCEWIRE_REDIS_PASSWORD)@redis-master.data:6379/0"
    )
    assert env["STANCEWIRE_KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
    assert env["STANCEWIRE_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": FULLNAME,
        "key": "kafka-sasl-password",
    }
    assert env["STANCEWIRE_KAFKA_SSL_CAFILE"]["value"] == "/etc/stancewire/kafka-tls/ca.crt"


@needs_helm
def test_empty_secret_by_default_and_no_credentials_in_the_environment() -> None:
    objects = render()
    assert _secret_data(objects) == {
        "tokens.json": '{"desks":[]}',
        "subscriptions.json": '{"subscriptions":[]}',
    }
    for _, container in containers(objects):
        env = env_of(container)
        assert env["STANCEWIRE_REDIS_URL"]["value"] == "redis://redis-master:6379/0"
        assert not [name for name in env if "PASSWORD" in name or "SASL" in name]


@needs_helm
def test_existing_secret_replaces_the_chart_secret() -> None:
    objects = render(ci_values(CHART / "ci" / "all-enabled-values.yaml"))
    assert not of_kind(objects, "Secret")
    references = set()
    for workload, container in containers(objects):
        for entry in container["env"]:
            if "valueFrom" in entry:
                references.add(entry["valueFrom"]["secretKeyRef"]["name"])
        for volume in workload["spec"]["template"]["spec"]["volumes"]:
            if "secret" in volume:
                references.add(volume["secret"]["secretName"])
    assert references == {"stancewire-credentials"}
    gateway = deployment(objects, "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert env_of(gateway)["STANCEWIRE_REDIS_URL"]["value"] == (
        "rediss://default:$(STANCEWIRE_REDIS_PASSWORD)@redis.internal:6380/0"
    )


@needs_helm
def test_missing_credentials_fail_the_render() -> None:
    with pytest.raises(helm.HelmError, match=re.escape("externalRedis.auth.password")):
        render({"externalRedis": {"auth": {"enabled": True}}})
    with pytest.raises(helm.HelmError, match=re.escape("sasl.password")):
        render({"externalKafka": {"securityProtocol": "SASL_PLAINTEXT"}})


# --- monitoring: ServiceMonitor, PrometheusRule, dashboard ---------------------------------


@needs_helm
def test_service_monitor_absent_by_default_present_when_enabled() -> None:
    assert not of_kind(render(), "ServiceMonitor")
    objects = render({"serviceMonitor": {"enabled": True}, "feeds": FEEDS})
    monitors = {m["metadata"]["name"]: m for m in of_kind(objects, "ServiceMonitor")}
    assert set(monitors) == {f"{FULLNAME}-{component}" for component in JOBS}
    metrics_doc = (ROOT / "docs" / "metrics.md").read_text()
    for component, job in JOBS.items():
        monitor = monitors[f"{FULLNAME}-{component}"]["spec"]
        assert monitor["endpoints"][0]["port"] == "metrics"
        service = one(objects, "Service", f"{FULLNAME}-{component}-metrics")
        # The job label Prometheus gives the targets is the one docs/metrics.md names.
        assert service["metadata"]["labels"][monitor["jobLabel"]] == job
        assert f"`{job}`" in metrics_doc
        selected = monitor["selector"]["matchLabels"]
        assert selected.items() <= service["metadata"]["labels"].items()
        pod_labels = deployment(objects, component)["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()


@needs_helm
def test_prometheus_rule_carries_the_rule_file() -> None:
    assert not of_kind(render(), "PrometheusRule")
    if not RULES.read_text().strip():
        pytest.skip("files/prometheus-rules.yaml is still a placeholder")
    rule = one(render({"prometheusRule": {"enabled": True}}), "PrometheusRule", FULLNAME)
    groups = yaml.safe_load(RULES.read_text())["groups"]
    assert groups, "the rule file has no groups"
    assert rule["spec"]["groups"] == groups


@needs_helm
def test_grafana_dashboard_config_map() -> None:
    assert not [o for o in of_kind(render(), "ConfigMap") if "dashboard" in o["metadata"]["name"]]
    if not DASHBOARD.is_file() or not DASHBOARD.read_text().strip():
        pytest.skip("files/grafana-dashboard.json is not written yet")
    config = one(
        render({"grafanaDashboard": {"enabled": True}}), "ConfigMap", f"{FULLNAME}-dashboard"
    )
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config["data"]["stancewire.json"]) == json.loads(DASHBOARD.read_text())


# --- optional parts: ingress, network policy, feed poller ----------------------------------


@needs_helm
def test_optional_objects_only_when_enabled() -> None:
    default = render()
    for kind in ("Ingress", "NetworkPolicy", "HorizontalPodAutoscaler", "ConfigMap"):
        assert not of_kind(default, kind), kind
    assert not [
        o for o in of_kind(default, "Deployment") if o["metadata"]["name"].endswith("feeds")
    ]

    objects = render(ci_values(CHART / "ci" / "all-enabled-values.yaml"))
    ingress = one(objects, "Ingress", f"{FULLNAME}-gateway")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": f"{FULLNAME}-gateway", "port": {"name": "http"}}
    policies = {p["metadata"]["name"]: p for p in of_kind(objects, "NetworkPolicy")}
    assert set(policies) == {f"{FULLNAME}-{component}" for component in JOBS}
    # `helm test` still reaches the gateway when only some peers may.
    http = policies[f"{FULLNAME}-gateway"]["spec"]["ingress"][1]
    assert http["ports"] == [{"port": "http", "protocol": "TCP"}]
    test_pod = one(objects, "Pod", f"{FULLNAME}-test-gateway")["metadata"]["labels"]
    peers = [peer["podSelector"]["matchLabels"] for peer in http["from"] if "podSelector" in peer]
    assert any(labels.items() <= test_pod.items() for labels in peers)
    assert {h["metadata"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")} == {
        f"{FULLNAME}-worker",
        f"{FULLNAME}-gateway",
    }


@needs_helm
def test_feed_poller_runs_ingest_feeds_with_its_config(tmp_path: Path) -> None:
    objects = render({"feeds": FEEDS})
    poller = deployment(objects, "feeds")["spec"]["template"]["spec"]
    assert poller["containers"][0]["args"] == [
        "ingest",
        "feeds",
        "/etc/stancewire/feeds/feeds.json",
    ]
    data = one(objects, "ConfigMap", f"{FULLNAME}-feeds")["data"]["feeds.json"]
    assert json.loads(data) == FEEDS["config"]
    # The poller reads the file as it is mounted (a .json name: parsed as JSON).
    feeds = pytest.importorskip("producers.feeds")
    (tmp_path / "feeds.json").write_text(data)
    assert [f.name for f in feeds.load_config(tmp_path / "feeds.json").feeds] == ["wire-a"]

    changed = with_values(FEEDS, {"config": {"defaults": {"interval_seconds": 30}}})
    key = "checksum/feeds"
    assert (
        pod_annotations(objects, "feeds")[key]
        != pod_annotations(render({"feeds": changed}), "feeds")[key]
    )
    with pytest.raises(helm.HelmError, match=re.escape("feeds.config.feeds")):
        render({"feeds": {"enabled": True}})


# --- values: strict schema, subcharts, README ----------------------------------------------


def _values_file() -> dict[str, Any]:
    loaded = yaml.safe_load((CHART / "values.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _schema() -> dict[str, Any]:
    loaded = json.loads((CHART / "values.schema.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


@needs_helm
@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": 3}, "replicaCount"),
        ({"worker": {"replica": 3}}, "replica"),
        ({"gateway": {"service": {"typo": 1}}}, "typo"),
        ({"gateway": {"desks": [{"desk": "macro", "token_sha256": "plain-token"}]}}, "token_sha"),
        ({"externalKafka": {"securityProtocol": "SASL"}}, "securityProtocol"),
        ({"worker": {"metricsPort": 0}}, "metricsPort"),
    ],
)
def test_values_schema_is_strict(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmError, match=complaint):
        render(values)


def test_schema_covers_values_and_the_taxonomy() -> None:
    schema = _schema()
    assert schema["additionalProperties"] is False
    assert set(_values_file()) == set(schema["properties"]) - {"global"}
    definitions = schema["definitions"]
    assert definitions["topics"]["items"]["enum"] == [t.value for t in Topic]
    assert definitions["stances"]["items"]["enum"] == [s.value for s in Stance]


def test_subcharts_are_optional_and_off() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    dependencies = {d["name"]: d for d in chart["dependencies"]}
    assert set(dependencies) == {"kafka", "redis"}
    values = _values_file()
    for name, dependency in dependencies.items():
        assert dependency["condition"] == f"{name}.enabled"
        assert "bitnami" in dependency["repository"]
        assert values[name]["enabled"] is False
    assert not (CHART / "charts").exists(), "subcharts are fetched by helm dependency update"


def documented_values() -> list[tuple[str, str, str, str]]:
    """(key path, type, default, description) of every key with a ``# --`` comment."""
    values = _values_file()
    rows = []
    stack: list[tuple[int, str]] = []
    description: list[str] | None = None
    for line in (CHART / "values.yaml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            description = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if description is not None:
                description.append(stripped[1:].strip())
            continue
        match = re.match(r"^( *)([A-Za-z0-9_.-]+):", line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if description is not None:
            path = [k for _, k in stack]
            default: Any = values
            for part in path:
                default = default[part]
            kind = {dict: "object", list: "list", bool: "bool", int: "int", str: "string"}
            rows.append(
                (
                    ".".join(path),
                    kind.get(type(default), type(default).__name__),
                    json.dumps(default),
                    " ".join(description),
                )
            )
            description = None
    return rows


def values_table() -> str:
    lines = ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for key, kind, default, description in documented_values():
        cell = f"`{default}`" if len(default) <= 60 else "see values.yaml"
        cell, text = cell.replace("|", "\\|"), description.replace("|", "\\|")
        lines.append(f"| `{key}` | {kind} | {cell} | {text} |")
    return "\n".join(lines)


BEGIN, END = "<!-- values: begin (generated) -->", "<!-- values: end -->"


def readme_with_table(text: str) -> str:
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{values_table()}\n{text[stop:]}"


def test_readme_documents_every_value() -> None:
    text = README.read_text()
    assert readme_with_table(text) == text, (
        "helm/stancewire/README.md is stale: .venv/bin/python -m tests.unit.test_chart "
        "--write-readme"
    )
    documented = {key for key, *_ in documented_values()}
    for key in _values_file():
        covered = [d for d in documented if d == key or d.startswith(f"{key}.")]
        assert covered, f"values.yaml: neither {key} nor a key under it has a '# --' comment"
        assert f"| `{key}" in text, f"README.md does not document {key}"


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_pinned_and_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert base, "the base image is an ARG"
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base.group(1))
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]
    assert len(stages) == 2, "a build stage and a final stage"
    build, final = stages
    assert "pip install --require-hashes -r constraints.txt" in build
    assert re.search(r"pip install --no-deps .* \.", build)
    assert "COPY --from=build /opt/stancewire /opt/stancewire" in final
    for tool in ("gcc", "build-essential", "apt-get install", "pip install"):
        assert tool not in final, f"{tool} in the final stage"
    user = re.findall(r"^USER (\S+)$", final, re.MULTILINE)
    assert user == ["10001:10001"]
    # The chart runs as that same numeric user.
    assert _values_file()["podSecurityContext"]["runAsUser"] == 10001
    assert 'ENTRYPOINT ["stancewire"]' in final
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests"} <= set(ignored)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-readme"]:
        sys.exit("usage: python -m tests.unit.test_chart --write-readme")
    README.write_text(readme_with_table(README.read_text()))
    print(f"wrote {README.relative_to(ROOT)}")
