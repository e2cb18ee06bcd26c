"""The Prometheus rules and the Grafana dashboard shipped in the chart.

`promtool check rules` and `promtool test rules` (Debian's `prometheus` package) run on the
rules file and on the unit tests in tests/prometheus/; every metric either file reads must be
in the metric contract (docs/metrics.md), a recording rule of the rules file, or `up`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
RULES = ROOT / "helm" / "stancewire" / "files" / "prometheus-rules.yaml"
DASHBOARD = ROOT / "helm" / "stancewire" / "files" / "grafana-dashboard.json"
RULE_TESTS = sorted((ROOT / "tests" / "prometheus").glob("*.yaml"))
METRICS_DOC = ROOT / "docs" / "metrics.md"
RUNBOOK = ROOT / "docs" / "runbook.md"

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not on PATH (Debian's `prometheus` package; `make test` installs it)",
)

REQUIRED_ALERTS = {
    "StancewireWorkerDown",
    "StancewireGatewayDown",
    "StancewireConsumerLagGrowing",
    "StancewireNoHeadlines",
    "StancewireDeadLetterRate",
    "StancewireDedupFailingOpen",
    "StancewireRedisErrors",
    "StancewireWebhookFailures",
    "StancewireLatencySLOBurn",
}
SEVERITIES = {"critical", "warning", "info"}

# Grafana's variables, replaced by something PromQL accepts before a query is checked.
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "$namespace": ".*",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    command = " ".join(map(str, result.args))
    return f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


def rule_groups() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(RULES.read_text())
    groups: list[dict[str, Any]] = loaded["groups"]
    return groups


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def alerting_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    found: list[dict[str, Any]] = []
    for panel in panels:
        found.append(panel)
        found.extend(all_panels(panel.get("panels", [])))
    return found


def dashboard_queries() -> list[str]:
    """The PromQL of every panel target and of every query variable, Grafana's variables
    replaced by values PromQL accepts."""
    board = dashboard()
    queries = [
        target["expr"]
        for panel in all_panels(board["panels"])
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", text)
        queries.append(match.group(1) if match else text)
    for variable, value in GRAFANA_VARIABLES.items():
        queries = [query.replace(variable, value) for query in queries]
    return queries


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (a lexical scan, enough for these files:
    strings, label matchers, ranges, grouping clauses and function calls are not names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = GROUPING.sub(" ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.:])([A-Za-z_:][\w:]*)(\s*\()?", text):
        name, call = match.groups()
        if call is None and name.lower() not in PROMQL_KEYWORDS:
            names.add(name)
    return names


def contract() -> dict[str, str]:
    """Metric name -> type, from the tables of docs/metrics.md."""
    found: dict[str, str] = {}
    for line in METRICS_DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and re.fullmatch(r"`stancewire_\w+`", cells[0]):
            found[cells[0].strip("`")] = cells[1].split()[0]
    return found


def contract_series() -> set[str]:
    """Every series name the contract's metrics expose (histograms: _bucket, _sum, _count)."""
    names = set()
    for name, kind in contract().items():
        names.add(name)
        if kind == "histogram":
            names.update(f"{name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
    return names


def github_anchor(heading: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


# --- promtool ------------------------------------------------------------------------------


@needs_promtool
def test_promtool_check_rules() -> None:
    result = run("check", "rules", str(RULES.relative_to(ROOT)))
    assert result.returncode == 0, explain(result)


@needs_promtool
def test_promtool_rule_unit_tests() -> None:
    assert RULE_TESTS, "no rule unit tests in tests/prometheus/"
    result = run("test", "rules", *(str(path.relative_to(ROOT)) for path in RULE_TESTS))
    assert result.returncode == 0, explain(result)


@needs_promtool
def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Each dashboard query, as a recording rule, passes `promtool check rules`."""
    queries = dashboard_queries()
    records = [
        {"record": f"dashboard:query_{index}:check", "expr": query}
        for index, query in enumerate(queries)
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    result = run("check", "rules", str(path))
    assert result.returncode == 0, explain(result)


# --- the rules -----------------------------------------------------------------------------


def test_every_required_alert_is_defined() -> None:
    missing = REQUIRED_ALERTS - {rule["alert"] for rule in alerting_rules()}
    assert not missing


def test_every_alert_has_severity_annotations_and_a_runbook_section() -> None:
    headings = re.findall(r"^##\s+(.+)$", RUNBOOK.read_text(), re.M)
    anchors = {github_anchor(heading) for heading in headings}
    for rule in alerting_rules():
        name = rule["alert"]
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert annotations.get(key, "").strip(), f"{name} has no {key}"
        path, _, anchor = annotations["runbook_url"].rpartition("#")
        assert path.endswith("docs/runbook.md"), f"{name}: {annotations['runbook_url']}"
        assert anchor == name.lower(), f"{name}: anchor {anchor!r}"
        assert anchor in anchors, f"docs/runbook.md has no section for {name}"


def test_every_alert_has_unit_tests_that_fire_and_that_do_not() -> None:
    fires: set[str] = set()
    silent: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = {rule["alert"] for rule in alerting_rules()}
    assert alerts - fires == set(), "alerts never seen firing in tests/prometheus"
    assert alerts - silent == set(), "alerts never seen silent in tests/prometheus"


def test_multi_severity_alerts_are_each_tested() -> None:
    """An alert defined at two severities is seen firing at each."""
    expected = {(rule["alert"], rule["labels"]["severity"]) for rule in alerting_rules()}
    seen = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                for alert in check.get("exp_alerts") or []:
                    seen.add((check["alertname"], alert["exp_labels"]["severity"]))
    assert expected - seen == set()


def test_slo_buckets_exist_in_the_worker_histogram() -> None:
    """Every `le` the rules select is a bucket boundary the worker exposes."""
    from prometheus_client import REGISTRY

    import streams.metrics  # noqa: F401  (registers the worker's metrics)

    buckets: dict[str, set[str]] = {}
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets.setdefault(sample.name, set()).add(sample.labels["le"])
    selected = re.findall(r'(\w+_bucket)\{le="([^"]+)"\}', RULES.read_text())
    assert selected, "the SLO rules select no bucket"
    for name, le in selected:
        assert le in buckets.get(name, set()), f"{name} has no bucket le={le!r}"


# --- metric names --------------------------------------------------------------------------


def test_metric_name_scan() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (namespace, le) (rate(a_bucket{le="0.25", x=~"b"}'
        "[5m]))) > 1e3 and on (namespace) sum(up) by (job) or absent(c) * 60 unless d offset 5m"
    )
    assert metric_names(expr) == {"a_bucket", "up", "c", "d"}
    assert metric_names("namespace:x_seconds:p99_5m > (14.4 * 0.01)") == {
        "namespace:x_seconds:p99_5m"
    }


def test_contract_is_parsed() -> None:
    kinds = contract()
    assert kinds["stancewire_headlines_total"] == "counter"
    assert kinds["stancewire_kafka_to_alert_seconds"] == "histogram"
    assert kinds["stancewire_webhook_queue_depth"] == "gauge"


def test_rules_use_only_contract_metrics() -> None:
    allowed = contract_series() | recorded_names() | {"up"}
    for rule in rules():
        unknown = metric_names(rule["expr"]) - allowed
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: {sorted(unknown)}"


def test_dashboard_uses_only_contract_metrics() -> None:
    allowed = contract_series() | recorded_names() | {"up"}
    used = set()
    for query in dashboard_queries():
        names = metric_names(query)
        assert names, f"no metric in {query!r}"
        assert names <= allowed, f"{sorted(names - allowed)} in {query!r}"
        used |= names
    # Every metric of the contract is on the dashboard, as itself or through a recording
    # rule, except build info's own table and the SLO's raw buckets.
    recorded_from = {
        name
        for rule in rules()
        if "record" in rule and rule["record"] in used
        for name in metric_names(rule["expr"])
    }
    shown = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used | recorded_from}
    assert set(contract()) - shown == set()


# --- the dashboard -------------------------------------------------------------------------


def test_dashboard_shape() -> None:
    board = dashboard()
    assert board["uid"] == "stancewire"
    assert 36 <= board["schemaVersion"] <= 41
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = all_panels(board["panels"])
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids are not unique"
    rows = {panel["title"] for panel in panels if panel["type"] == "row"}
    assert {"Flow", "Latency", "Lag", "Quality signals", "Delivery", "Health"} <= rows
    for panel in panels:
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel.get("targets"), f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]
