"""``stancewire demo``: the main job on the embedded default, shown as it happens.

Starts the broker and Redis on loopback, a worker and the gateway (with one desk token for
the session), replays the bundled sample wire at a readable pace, prints each alert as it
fires, and keeps everything up (the board at ``/``, the worker's /metrics) until Ctrl-C;
with ``--once`` it exits when the wire is drained.
"""

from __future__ import annotations

import secrets
import signal
from importlib import resources

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from schemas import Alert
from schemas.desks import Desk, Desks
from stancewire.replay import replay
from stancewire.runtime import RuntimeFailure, Stack, wait_until

_STANCE_STYLE = {
    "threatens": "bold red",
    "acting": "bold magenta",
    "open": "yellow",
    "rules_out": "green",
}


def sample_wire() -> list[bytes]:
    wire = resources.files("stancewire") / "sample" / "wire.jsonl"
    return [line for line in wire.read_bytes().splitlines() if line.strip()]


def _show(console: Console, alert: Alert) -> None:
    previous = alert.from_.value if alert.from_ else "none"
    title = Text.assemble(
        (f"{alert.government} / {alert.topic.value}: ", "bold"),
        (previous, _STANCE_STYLE.get(previous, "dim")),
        " -> ",
        (alert.to.value, _STANCE_STYLE[alert.to.value]),
    )
    body = Text.assemble(
        (f'"{alert.evidence}"\n', "italic"),
        (
            f"{alert.source}, published {alert.published_at:%Y-%m-%d %H:%M %Z}; "
            f"speaker {alert.speaker.value}, confidence {alert.confidence:.2f}; "
            f"alert {alert.alert_id[:12]}",
            "dim",
        ),
    )
    console.print(Panel(body, title=title, title_align="left", expand=False))


def run_demo(
    *, once: bool, metrics_port: int, pace_seconds: float, port: int, token: str | None
) -> int:
    console = Console()
    wire = sample_wire()
    token = token or secrets.token_urlsafe(18)
    desks = Desks(desks=(Desk(desk="demo", token_sha256=Desk.hash_token(token)),))
    try:
        console.print("starting the broker, Redis, a worker and the gateway on loopback ...")
        with Stack() as stack:
            worker = stack.start_worker(metrics_port=metrics_port)
            stack.start_gateway(port, desks.model_dump_json())
            console.print(
                f"[bold]stancewire demo[/]: broker {stack.bootstrap}, Redis {stack.redis_url}\n"
                f"  stance board  http://127.0.0.1:{port}/#token={token}\n"
                f"  desk token    {token}  (curl -H 'Authorization: Bearer {token}' "
                f"http://127.0.0.1:{port}/v1/stances)\n"
                f"  worker        http://127.0.0.1:{metrics_port}/metrics"
            )
            console.print(f"replaying {len(wire)} sample headlines from several outlets ...")
            alerts = replay(
                stack,
                wire,
                lambda alert: _show(console, alert),
                worker=worker,
                embedded=True,
                pace_seconds=pace_seconds,
            )
            console.print(f"[bold]{len(alerts)} alerts[/] from {len(wire)} headlines.")
            if once:
                return 0
            console.print("the pipeline keeps running; Ctrl-C to stop")
            wait_until(lambda: not worker.alive(), float("inf"), "Ctrl-C")
            console.print(f"[red]the worker stopped[/]:\n{worker.log_tail()}")
            return 1
    except RuntimeFailure as exc:
        console.print(f"[red]stancewire demo:[/] {exc}")
        return 1
    except KeyboardInterrupt:
        console.print("stopping ...")
        return 128 + signal.SIGINT
