"""A real Prometheus server scrapes the worker and the gateway during a replay."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from redis import Redis

from stancewire.runtime import free_port, spawn, wait_until
from tests.integration.conftest import Gateway
from tests.integration.test_pipeline import SEED, run

needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="no prometheus/promtool (make test installs Debian's prometheus)",
)


def scrape(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body: bytes = response.read()
        return body


@needs_prometheus
def test_every_metrics_endpoint_passes_promtool(gateway: Gateway) -> None:
    for port in (gateway.pipeline.metrics_port, gateway.metrics_port):
        checked = subprocess.run(
            ["promtool", "check", "metrics"], input=scrape(port), capture_output=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert b'stancewire_build_info{process="worker"' in scrape(gateway.pipeline.metrics_port)


@needs_prometheus
def test_a_real_prometheus_scrapes_alerts_and_latency(
    gateway: Gateway, redis: Redis, tmp_path: Path
) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(
        json.dumps(  # JSON is YAML
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {"job_name": "stancewire-worker", "static_configs": [
                        {"targets": [f"127.0.0.1:{gateway.pipeline.metrics_port}"]}]},
                    {"job_name": "stancewire-gateway", "static_configs": [
                        {"targets": [f"127.0.0.1:{gateway.metrics_port}"]}]},
                ],
            }
        )
    )  # fmt: skip
    port = free_port()
    server = spawn(
        "prometheus",
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        tmp_path,
    )  # fmt: skip
    try:

        def query(promql: str) -> list[dict[str, object]]:
            url = f"http://127.0.0.1:{port}/api/v1/query?query={urllib.parse.quote(promql)}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    result: list[dict[str, object]] = json.load(response)["data"]["result"]
                    return result
            except OSError:
                return []

        wait_until(
            lambda: len(query('up{job=~"stancewire-.*"} == 1')) == 2, 60, "both targets up", server
        )
        run(gateway.pipeline, SEED.read_bytes().splitlines())
        wait_until(
            lambda: bool(query('sum(stancewire_alerts_total{government="JP"}) >= 2')),
            60,
            "the alerts counter in Prometheus",
            server,
        )
        p99 = (
            "histogram_quantile(0.99, "
            "sum by (le) (rate(stancewire_kafka_to_alert_seconds_bucket[1m])))"
        )
        wait_until(lambda: bool(query(f"{p99} > 0")), 60, "the latency histogram", server)
        assert query("stancewire_sse_clients") != []
    finally:
        server.stop()
