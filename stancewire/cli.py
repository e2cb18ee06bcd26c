"""The ``stancewire`` command line: the contract in DESIGN.md ("Command-line contract")."""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from consumers.tail import tail
from schemas import MAX_TEXT_CHARS, Stance, Topic
from schemas.desks import AlertFilter
from schemas.settings import (
    ConnectionSettings,
    DispatcherSettings,
    FeedsSettings,
    GatewaySettings,
    PushSettings,
    WorkerSettings,
)
from stancewire import __version__


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every child process is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stancewire",
        description="Alerts when a government's stance on using its Treasury holdings or trade "
        "measures as leverage changes.",
    )
    parser.add_argument("--version", action="version", version=f"stancewire {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    _offline_commands(commands)

    _pipeline_commands(commands)

    worker = commands.add_parser("worker", help="the stream worker (Faust)")
    _connection_flags(worker)
    worker.add_argument("--metrics-port", type=int, default=None, help="port of /metrics (0: off)")
    worker.set_defaults(run=_worker)

    _service_commands(commands)

    ingest = commands.add_parser("ingest", help="bring headlines into Kafka")
    sources = ingest.add_subparsers(required=True, metavar="SOURCE")
    jsonl = sources.add_parser("jsonl", help="a JSONL file of headlines (or - for stdin)")
    jsonl.add_argument("file")
    _connection_flags(jsonl)
    jsonl.set_defaults(run=_ingest_jsonl)
    http = sources.add_parser("http", help="an endpoint vendors POST headlines to")
    _connection_flags(http)
    http.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    http.add_argument("--port", type=int, default=None, help="listen port (default 8001)")
    http.add_argument("--metrics-port", type=int, default=None, help="port of /metrics (0: off)")
    http.add_argument("--tokens", default=None, help="producers and hashed tokens (JSON file)")
    http.set_defaults(run=_ingest_http)
    feeds = sources.add_parser("feeds", help="poll RSS and Atom feeds")
    feeds.add_argument("config", type=Path, help="the feeds to poll (see docs/feeds.md)")
    _connection_flags(feeds)
    feeds.add_argument("--metrics-port", type=int, default=None, help="port of /metrics (0: off)")
    feeds.set_defaults(run=_ingest_feeds)

    tail_parser = commands.add_parser("tail", help="follow alerts in the terminal")
    _connection_flags(tail_parser)
    tail_parser.add_argument("--government", action="append", default=[], help="repeatable")
    tail_parser.add_argument(
        "--topic", action="append", default=[], choices=[t.value for t in Topic]
    )
    tail_parser.add_argument(
        "--stance", action="append", default=[], choices=[s.value for s in Stance]
    )
    tail_parser.add_argument("--min-confidence", type=float, default=0.0)
    tail_parser.add_argument("--json", action="store_true", help="one Alert JSON per line")
    tail_parser.add_argument("--from-beginning", action="store_true")
    tail_parser.add_argument("--limit", type=int, default=None, help="exit after N alerts")
    tail_parser.set_defaults(run=_tail)
    return parser


def _pipeline_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands that run the whole pipeline on the embedded stack (or given services)."""
    replay = commands.add_parser("replay", help="push JSONL headlines through the real pipeline")
    replay.add_argument("file", help="JSONL file of headlines, or - for stdin")
    _connection_flags(replay)
    replay.add_argument(
        "--no-worker", action="store_true", help="use the workers already running on --bootstrap"
    )
    replay.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the drain"
    )
    replay.add_argument(
        "--event-time-order",
        action="store_true",
        help="sort by published_at first (default: input order, as DESIGN.md says)",
    )
    replay.set_defaults(run=_replay)

    demo = commands.add_parser("demo", help="the whole pipeline on the embedded broker and Redis")
    demo.add_argument("--once", action="store_true", help="exit when the sample wire is drained")
    demo.add_argument("--metrics-port", type=int, default=9100, help="the worker's /metrics port")
    demo.add_argument("--pace", type=float, default=0.15, help="seconds between sample headlines")
    demo.add_argument("--port", type=int, default=8000, help="the gateway's port (board at /)")
    demo.add_argument("--token", default=None, help="the desk token (printed when generated)")
    demo.set_defaults(run=_demo)


def _offline_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Commands that need no broker: detection, its evaluation, backtests."""
    classify = commands.add_parser(
        "classify", help="detect statements in JSONL headlines (no broker)"
    )
    classify.add_argument("file", nargs="?", default="-", help="JSONL file, or - for stdin")
    classify.set_defaults(run=_classify)

    evaluate = commands.add_parser(
        "evaluate", help="precision, recall and F1 of detection against gold labels"
    )
    evaluate.add_argument(
        "file", type=Path, help="JSONL of {id, text, relevant, statements} (gold inline)"
    )
    evaluate.add_argument(
        "labels",
        type=Path,
        nargs="?",
        help="JSONL of {id, relevant, statements}, when FILE holds only {id, text}",
    )
    evaluate.set_defaults(run=_evaluate)

    evaluate_dedup = commands.add_parser(
        "evaluate-dedup", help="precision and recall of duplicate suppression on labelled pairs"
    )
    evaluate_dedup.add_argument("pairs", type=Path, help="JSONL of {id, a, b, duplicate, kind}")
    evaluate_dedup.add_argument("--redis", help="a Redis to use (flushed!); default: embedded")
    evaluate_dedup.set_defaults(run=_evaluate_dedup)

    backtest = commands.add_parser(
        "backtest", help="the alerts an archive would have fired (no broker), and lexicon diffs"
    )
    backtest.add_argument("archive", help="JSONL of headlines, or - for stdin")
    backtest.add_argument(
        "--lexicon",
        action="append",
        type=Path,
        default=[],
        help="a lexicon file (default: the packaged one); give two to see what changes",
    )
    backtest.add_argument("--human", action="store_true", help="a table instead of JSON lines")
    backtest.add_argument("--redis", help="a Redis to use (flushed!); default: embedded")
    backtest.set_defaults(run=_backtest)


def _service_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The long-running processes desks are served by."""
    gateway = commands.add_parser("gateway", help="SSE, REST and the live stance board for desks")
    _connection_flags(gateway)
    gateway.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    gateway.add_argument("--port", type=int, default=None, help="listen port (default 8000)")
    gateway.add_argument("--metrics-port", type=int, default=None, help="port of /metrics (0: off)")
    gateway.add_argument("--tokens", default=None, help="desks and hashed tokens (JSON file)")
    gateway.set_defaults(run=_gateway)

    dispatcher = commands.add_parser("dispatcher", help="signed webhooks to subscribed desks")
    _connection_flags(dispatcher)
    dispatcher.add_argument("--metrics-port", type=int, default=None, help="port of /metrics")
    dispatcher.add_argument("--subscriptions", default=None, help="subscriptions (JSON file)")
    dispatcher.set_defaults(run=_dispatcher)


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap", help="Kafka HOST:PORT (env STANCEWIRE_BOOTSTRAP)")
    parser.add_argument("--redis", help="Redis URL (env STANCEWIRE_REDIS_URL)")


def _overrides(args: argparse.Namespace, *same: str, **renamed: str) -> dict[str, Any]:
    """The settings a command's flags give (flags left out are None, so the environment's
    value stands): ``--bootstrap`` and ``--redis`` always, ``same`` named like their setting,
    ``renamed`` as setting=flag."""
    flags = {"bootstrap": "bootstrap", "redis_url": "redis", **{n: n for n in same}, **renamed}
    given = {setting: getattr(args, flag) for setting, flag in flags.items()}
    return {setting: value for setting, value in given.items() if value is not None}


def _read_lines(file: str) -> list[bytes]:
    stream: BinaryIO = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
    with stream:
        return [line.rstrip(b"\r\n") for line in _without_bom(stream) if line.strip()]


def _without_bom(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a file, the UTF-8 byte order mark some editors write before the first
    one dropped (it is no part of the JSON)."""
    first = True
    for line in lines:
        yield line.removeprefix(codecs.BOM_UTF8) if first else line
        first = False


# --- classify -----------------------------------------------------------------------------


def _classify(args: argparse.Namespace) -> int:
    from streams.detect import detect

    stream: BinaryIO = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")  # noqa: SIM115
    with stream:
        for raw in _without_bom(stream):  # one output line per input line, blank ones too
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:  # one bad line is reported; the run goes on
                print(json.dumps({"id": None, "error": f"not UTF-8: {exc}"}))
                continue
            print(json.dumps(_classify_line(line, detect)))
    sys.stdout.flush()
    return 0


def _published(item: dict[str, Any]) -> datetime | None:
    """The optional ``published_at`` of a classify line: it dates the officials' terms."""
    try:
        return datetime.fromisoformat(str(item["published_at"]))
    except (KeyError, ValueError):
        return None


def _classify_line(line: str, detect: Any) -> dict[str, Any]:
    if not line.strip():
        return {"id": None, "error": "empty line"}
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"id": None, "error": f"not JSON: {exc}"}
    if not isinstance(item, dict):
        return {"id": None, "error": "not a JSON object"}
    if not isinstance(item.get("id"), str | int) or not isinstance(item.get("text"), str):
        return {"id": None, "error": "needs a string 'id' and a string 'text'"}
    if len(item["text"]) > MAX_TEXT_CHARS:
        # the worker's limit (a longer headline is dead-lettered): the grammar's cost grows
        # faster than the text. Well formed, so the id is known.
        return {"id": item["id"], "error": f"text longer than {MAX_TEXT_CHARS} characters"}
    try:
        detections = detect(item["text"], _published(item))
    except Exception as exc:  # a bug in detection fails its line, not the run
        return {"id": item["id"], "error": f"detection failed: {exc!r}"}
    statements = [
        {
            "government": found.government,
            "topic": found.topic.value,
            "stance": found.stance.value,
            "speaker": found.speaker.value,
            "confidence": found.confidence,
            "evidence": found.evidence,
            "cue": found.cue,
            "speaker_phrase": found.speaker_phrase,
        }
        for found in detections
    ]
    return {"id": item["id"], "relevant": bool(statements), "statements": statements}


def _evaluate(args: argparse.Namespace) -> int:
    from stancewire.evaluate import main as evaluate

    return evaluate(args.file, args.labels)


def _backtest(args: argparse.Namespace) -> int:
    import time

    from stancewire import backtest
    from stancewire.runtime import Stack

    if len(args.lexicon) > 2:
        print("stancewire backtest: at most two --lexicon", file=sys.stderr)
        return 2
    lines = _read_lines(args.archive)
    lexicons: list[Path | None] = list(args.lexicon) or [None]
    runs = []
    with Stack(redis_url=args.redis or "", with_broker=False) as stack:
        for lexicon in lexicons:
            started = time.perf_counter()
            with _progress(f"backtest {lexicon or 'packaged lexicon'}", len(lines)) as advance:
                result = backtest.run(lines, stack.redis_url, lexicon, advance)
            elapsed = time.perf_counter() - started
            print(
                f"stancewire backtest: {len(lines)} headlines, {len(result.alerts)} alerts, "
                f"{result.dead_letters} invalid, {elapsed:.1f} s "
                f"({len(lines) / max(elapsed, 1e-9):.0f} headlines/s) with "
                f"{lexicon or 'the packaged lexicon'}",
                file=sys.stderr,
            )
            runs.append(result.alerts)
    if len(runs) == 1:
        rows = [("", alert) for alert in runs[0]]
    else:
        before = {backtest.key(a) for a in runs[0]}
        after = {backtest.key(a) for a in runs[1]}
        rows = [("-", a) for a in runs[0] if backtest.key(a) not in after]
        rows += [("+", a) for a in runs[1] if backtest.key(a) not in before]
        rows.sort(key=lambda row: row[1].published_at)
    _print_alerts(rows, human=args.human)
    return 0


def _print_alerts(rows: list[tuple[str, Any]], *, human: bool) -> None:
    """Alert JSON lines (with ``diff``: "-" or "+" when comparing), or a table."""
    if not human:
        for diff, alert in rows:
            body = json.loads(alert.to_json())
            if diff:
                body["diff"] = diff
            print(json.dumps(body))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("", "published", "government / lever", "change", "evidence")
    for diff, alert in rows:
        previous = alert.from_.value if alert.from_ else "none"
        table.add_row(
            diff,
            f"{alert.published_at:%Y-%m-%d %H:%M}",
            f"{alert.government} / {alert.topic.value}",
            f"{previous} -> {alert.to.value}",
            alert.evidence,
        )
    Console().print(table)


@contextlib.contextmanager
def _progress(what: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; ``advance(done)`` moves it."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)


def _evaluate_dedup(args: argparse.Namespace) -> int:
    from stancewire.dedup_eval import main as evaluate_dedup
    from stancewire.runtime import Stack

    with Stack(redis_url=args.redis or "", with_broker=False) as stack:
        return evaluate_dedup(args.pairs, stack.redis_url)


# --- replay and demo ----------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    from stancewire.backtest import event_time_order
    from stancewire.replay import replay
    from stancewire.runtime import RuntimeFailure, Stack

    lines = _read_lines(args.file)
    if args.event_time_order:
        lines = event_time_order(lines)
    embedded = args.bootstrap is None and args.redis is None
    connection = ConnectionSettings(**_overrides(args))
    stack = Stack() if embedded else Stack(connection.bootstrap, connection.redis_url)
    try:
        with stack, _progress("replay", len(lines)) as advance:
            worker = None if args.no_worker else stack.start_worker()
            replay(
                stack,
                lines,
                lambda alert: print(alert.to_json(), flush=True),
                worker=worker,
                embedded=embedded,
                timeout=args.timeout,
                progress=advance,
            )
    except RuntimeFailure as exc:
        print(f"stancewire replay: {exc}", file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from stancewire.demo import run_demo

    return run_demo(
        once=args.once,
        metrics_port=args.metrics_port,
        pace_seconds=args.pace,
        port=args.port,
        token=args.token,
    )


# --- worker -------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    import faust

    from stancewire import kafka
    from stancewire.metrics import serve
    from streams import metrics
    from streams.app import create_app

    settings = WorkerSettings(**_overrides(args, "metrics_port"))
    kafka.ensure_topics(settings.bootstrap)
    metrics.initialise()
    serve("worker", settings.metrics_port, settings.metrics_host)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True)
    # Measured: aiokafka's debug records were being built on the hot path (3-4% of CPU).
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    worker.execute_from_commandline()
    return 0


def _gateway(args: argparse.Namespace) -> int:
    from consumers.gateway import main as gateway
    from stancewire.metrics import serve

    settings = GatewaySettings(
        **_overrides(args, "host", "port", "metrics_port", tokens_file="tokens")
    )
    serve("gateway", settings.metrics_port, settings.metrics_host)
    return gateway(settings)


def _dispatcher(args: argparse.Namespace) -> int:
    from consumers.dispatcher import main as dispatcher
    from stancewire.metrics import mark_build

    settings = DispatcherSettings(
        **_overrides(args, "metrics_port", subscriptions_file="subscriptions")
    )
    mark_build("dispatcher")  # the dispatcher serves /metrics itself
    return dispatcher(settings)


# --- ingest and tail ----------------------------------------------------------------------


def _ingest_jsonl(args: argparse.Namespace) -> int:
    from stancewire import kafka
    from stancewire.backtest import event_time_order
    from stancewire.replay import headline_id

    settings = ConnectionSettings(**_overrides(args))
    lines = event_time_order(_read_lines(args.file))
    kafka.ensure_topics(settings.bootstrap)
    keyed = [(_encode(headline_id(line)), line) for line in lines]
    with _progress("ingest", len(keyed)) as advance:
        offsets = kafka.produce_headlines(settings.bootstrap, keyed, progress=advance)
    print(f"stancewire ingest: {len(offsets)} headline(s) sent to headlines", file=sys.stderr)
    return 0


def _ingest_http(args: argparse.Namespace) -> int:
    from producers.push import main as push
    from stancewire import kafka
    from stancewire.metrics import serve

    settings = PushSettings(
        **_overrides(args, "host", "port", "metrics_port", tokens_file="tokens")
    )
    kafka.ensure_topics(settings.bootstrap)
    serve("ingest-http", settings.metrics_port, settings.metrics_host)
    return push(settings)


def _ingest_feeds(args: argparse.Namespace) -> int:
    from producers.feeds import load_config
    from producers.feeds import main as feeds
    from stancewire import kafka
    from stancewire.metrics import mark_build

    settings = FeedsSettings(**_overrides(args, "metrics_port"))
    try:
        load_config(args.config)  # a mistake in the config shows before any broker wait
    except (OSError, ValueError) as exc:
        print(f"stancewire ingest feeds: {exc}", file=sys.stderr)
        return 2
    kafka.ensure_topics(settings.bootstrap)
    mark_build("ingest-feeds")  # the poller serves /metrics itself
    return feeds(args.config, settings)


def _encode(value: str | None) -> bytes | None:
    return None if value is None else value.encode()


def _tail(args: argparse.Namespace) -> int:
    settings = ConnectionSettings(**_overrides(args))
    alert_filter = AlertFilter(
        governments=frozenset(g.upper() for g in args.government),
        topics=frozenset(Topic(t) for t in args.topic),
        stances=frozenset(Stance(s) for s in args.stance),
        min_confidence=args.min_confidence,
    )
    tail(
        settings.bootstrap,
        alert_filter,
        as_json=args.json,
        from_beginning=args.from_beginning,
        limit=args.limit,
    )
    return 0
