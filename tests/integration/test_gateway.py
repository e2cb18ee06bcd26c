"""The gateway on the real broker, Redis and worker: what a desk's program sees."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import httpx
from redis import Redis

from stancewire.runtime import wait_until
from tests.integration.conftest import MACRO, TOKYO, Gateway
from tests.integration.test_pipeline import run
from tests.integration.test_stories import OUTLETS, REWORDED
from tests.integration.wire import headline, unique


@dataclass
class Stream:
    """An SSE client in a thread: events as they arrive, until closed."""

    url: str
    token: str
    last_event_id: str | None = None
    events: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    _client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=None))
    _thread: threading.Thread | None = None
    connected: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Stream:
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the stream did not open"
        return self

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        event_id = None
        try:
            with self._client.stream("GET", self.url, headers=headers) as response:
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.connected.set()
                    elif line.startswith("id: "):
                        event_id = line[4:]
                    elif line.startswith("data: ") and event_id is not None:
                        self.events.append((event_id, json.loads(line[6:])))
        except httpx.HTTPError:
            return  # closed by the test

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def ids(self) -> list[str]:
        return [str(alert["headline_id"]) for _, alert in self.events]


def test_tokens_and_scopes(gateway: Gateway) -> None:
    assert gateway.get("/v1/stances", token=None).status_code == 401
    unknown = gateway.get("/v1/stances", token="not-a-desk-token")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"]
    assert gateway.get("/v1/stances", token=TOKYO, params={"government": "CN"}).status_code == 403
    assert (
        gateway.get("/v1/alerts/stream", token=TOKYO, params={"topic": "nope"}).status_code == 400
    )
    assert gateway.get("/healthz", token=None).status_code == 200
    assert gateway.get("/openapi.json", token=None).json()["paths"]["/v1/alerts/stream"]


def test_board_is_cut_to_the_desk_scope(gateway: Gateway, redis: Redis) -> None:
    run(gateway.pipeline, [
        headline("Japan has no intention of using its US Treasury holdings as a negotiating tool, "
                 "Finance Minister Kato says", "2025-05-04T03:00:00+00:00"),
        headline("China imposes export controls on rare earths in retaliation for US tariffs, "
                 "commerce ministry says", "2025-04-04T03:00:00+00:00"),
    ])  # fmt: skip
    everything = {
        (s["government"], s["stance"]) for s in gateway.get("/v1/stances").json()["stances"]
    }
    assert everything == {("JP", "rules_out"), ("CN", "acting")}
    tokyo = gateway.get("/v1/stances", token=TOKYO).json()["stances"]
    assert [(s["government"], s["evidence"][:5]) for s in tokyo] == [("JP", "Japan")]


def test_stream_filters_and_resumes_without_a_gap(gateway: Gateway, redis: Redis) -> None:
    url = f"{gateway.url}/v1/alerts/stream?government=JP,KR"

    def jp(i: int, stance: str) -> bytes:
        text = {
            "open": "Japan's Treasury holdings could be a card in trade talks, Kato says",
            "rules_out": "Japan has no intention of using its Treasury holdings as a tool, "
            "Kato says",
        }[stance]
        return headline(
            f"{text} (remark {i})", f"2025-05-0{i}T03:00:00+00:00", id=f"{unique('jp')}-{i}"
        )

    cn = headline("China vows to retaliate against new US tariffs, commerce ministry says",
                  "2025-04-02T03:00:00+00:00")  # fmt: skip
    first = [jp(1, "open"), cn, jp(2, "rules_out")]
    with Stream(url, MACRO) as stream:
        run(gateway.pipeline, first)
        wait_until(lambda: len(stream.events) >= 2, 30, "two JP alerts on the stream")
        last_id = stream.events[-1][0]
    assert [h.rsplit("-", 1)[1] for h in stream.ids()] == ["1", "2"]  # no CN

    missed = [jp(3, "open"), jp(4, "rules_out")]
    run(gateway.pipeline, missed)  # while the desk is away
    with Stream(url, MACRO, last_event_id=last_id) as resumed:
        wait_until(lambda: len(resumed.events) >= 2, 30, "the missed alerts")
        extra = [jp(5, "open")]
        run(gateway.pipeline, extra)
        wait_until(lambda: len(resumed.events) >= 3, 30, "the live alert after the catch-up")
    assert [h.rsplit("-", 1)[1] for h in resumed.ids()] == ["3", "4", "5"]


def test_an_alert_says_how_many_outlets_carried_it(gateway: Gateway, redis: Redis) -> None:
    ids = [unique("story") for _ in OUTLETS]
    lines = [
        headline(text, f"2025-05-04T03:{10 + i:02d}:00+00:00", id=hid, source=source)
        for i, (text, source, hid) in enumerate(zip(REWORDED, OUTLETS, ids, strict=True))
    ]
    [alert] = run(gateway.pipeline, lines)

    def outlets() -> object:
        return gateway.get(f"/v1/alerts/{alert.alert_id}").json().get("outlets")

    wait_until(lambda: outlets() == 5, 30, "five outlets on the alert")
    assert (
        gateway.get(f"/v1/alerts/{alert.alert_id}", token=TOKYO).json()["alert"]["government"]
        == "JP"
    )
    assert gateway.get("/v1/alerts/no-such-alert").status_code == 404


def test_subscriptions_api(gateway: Gateway, redis: Redis) -> None:
    body = {
        "url": "http://127.0.0.1:9/hook",
        "secrets": ["s" * 32],
        "filter": {"stances": ["rules_out"]},
    }
    headers = {"Authorization": f"Bearer {TOKYO}"}
    created = httpx.post(f"{gateway.url}/v1/subscriptions", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["desk"] == "tokyo" and sub["filter"]["governments"] == ["JP"]  # cut to the scope
    assert sub["secrets"] == ["...ssss"]  # never shown back
    listed = gateway.get("/v1/subscriptions", token=TOKYO).json()["subscriptions"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert gateway.get("/v1/subscriptions").json()["subscriptions"] == []  # another desk's
    outside = {**body, "filter": {"governments": ["CN"]}}
    assert (
        httpx.post(f"{gateway.url}/v1/subscriptions", json=outside, headers=headers).status_code
        == 403
    )
    bad = {**body, "secrets": []}
    assert (
        httpx.post(f"{gateway.url}/v1/subscriptions", json=bad, headers=headers).status_code == 400
    )
    assert (
        httpx.delete(f"{gateway.url}/v1/subscriptions/{sub['id']}", headers=headers).status_code
        == 204
    )
    assert gateway.get(f"/v1/subscriptions/{sub['id']}", token=TOKYO).status_code == 404
