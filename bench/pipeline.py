"""The pipeline against its own floors, in one run on the embedded broker and Redis.

Three systems read the same realistic wire (``bench/_wire.py``), one after the other:

- the Kafka floor: a plain confluent-kafka loop that forwards each headline to an output
  topic (fetch wait 5 ms, linger 0; ``bench/_kafka_floor.py``);
- the Faust floor: a Faust agent that forwards each headline unchanged, with the worker's
  client settings and transport (``bench/_faust_floor.py``);
- the pipeline: ``stancewire worker`` (validate, detect, dedup, stance, alerts).

For each: throughput, sustained for ``--seconds`` from a backlog kept topped up (a floor's
count is its forwarded copies; the worker's, its ``stancewire_headlines_total``), on the
same list of headlines; then end-to-end latency at fixed offered loads (100, 500, 1,000
headlines/s for ``--latency-seconds`` each), from the produce call to the forwarded copy,
or for the pipeline to the alert, being consumed. Ten headlines a second of a latency run
are stance changes: the pipeline is timed on those, the floors on every headline. Then for the
worker: its peak RSS over every run, the latency of the first headline after
``--idle-seconds`` idle, Redis memory per 100,000 headlines in the dedup windows, and its
throughput with a ~200-government lexicon.

Every measurement gets a fresh broker and Redis (a few seconds each): the embedded broker
keeps partitions in memory and its fetches slow down with the number of record batches in
a partition (measured: 2 ms from produce to consume on an empty partition, 9 ms after 5,000
one-record batches, 70 ms after 10,000, stalled at 15,000), so a run would otherwise pay for
the one before it.

Clients of the bench itself: the backlog producer is stancewire's (``linger.ms`` 5); the
latency producer has ``linger.ms`` 0; the readers of the outputs have ``fetch.wait.max.ms``
5 when timing (the embedded broker answers a fetch only when its wait ends, see DESIGN.md)
and 100 when only counting. Workers get the embedded runtime's defaults (fetch wait 10 ms,
session timeout 6 s).

Run by hand from the project's .venv (about 20 minutes with the defaults):

    python bench/pipeline.py [--seconds 30] [--latency-seconds 20] [--idle-seconds 300]
                             [--append-results] [--profile FILE]

It ends by printing one JSON line (``faust_floor_throughput``, ``pipeline_throughput``,
``ratio``, ``p99_ms_at_500``, ``kafka_floor_p99_ms_at_500``, ``worker_rss_mb``, ...);
``--append-results`` also appends the run to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from _wire import PACKAGED_LEXICON, ROOT, Item, Wire, big_lexicon
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from redis import Redis

from schemas import ALERTS, HEADLINES
from schemas.settings import kafka_security
from stancewire import kafka
from stancewire.runtime import Child, RuntimeFailure, Stack, free_port, spawn, wait_until

RATES = (100, 500, 1000)
PROBES_PER_SECOND = 10
"""In a latency run, ten headlines a second are stance changes, whatever the load (one in
ten at 100/s, one in a hundred at 1,000/s): each alert waits for the broker's ack."""
THROUGHPUT_PROBE_EVERY = 100
"""In a throughput run, one in a hundred (besides the relevant items' first statements)."""
BACKLOG = 20_000
"""Headlines waiting for the system under test when its throughput is timed..."""
TOP_UP = 10_000
"""...and how many more are produced whenever fewer than BACKLOG / 2 wait."""
ARRIVAL_TIMEOUT = 30.0
"""How long after the last produce a latency run waits for the stragglers."""
RESULTS = ROOT / "bench" / "RESULTS.md"
FLOORS = ("kafka_floor", "faust_floor")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- reading an output topic ---------------------------------------------------------------


class Output(threading.Thread):
    """Reads an output topic from its beginning: counts its messages and notes when each
    watched headline arrived (by key for a floor's copies, by ``headline_id`` for alerts)."""

    def __init__(self, bootstrap: str, topic: str, alerts: bool, fetch_wait_ms: int) -> None:
        super().__init__(daemon=True, name=f"read-{topic}")
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                **kafka_security(),
                "group.id": "bench-reader",  # required by librdkafka; never joined
                "enable.auto.commit": False,
                "fetch.wait.max.ms": fetch_wait_ms,
                "fetch.max.bytes": 16 * 1024 * 1024,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self._alerts = alerts
        self._halt = threading.Event()
        self.count = 0
        self.watch: dict[str, float] = {}
        """Headline id -> when it was produced (perf_counter), set before the produce."""
        self.arrived: dict[str, float] = {}

    def run(self) -> None:
        consumer, watch, arrived = self._consumer, self.watch, self.arrived
        while not self._halt.is_set():
            message = consumer.poll(0.05)
            if message is None or message.error():
                continue
            now = time.perf_counter()
            if self._alerts:
                alert = json.loads(message.value() or b"{}")
                if alert.get("kind") != "stance_change":
                    continue
                hid = alert["headline_id"]
            else:
                hid = (message.key() or b"").decode()
            self.count += 1
            if hid in watch and hid not in arrived:
                arrived[hid] = now
        consumer.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


# --- the systems under test ----------------------------------------------------------------


@dataclass
class System:
    name: str
    topic: str
    output: Output
    processed: Callable[[], int]
    """Headlines the system has handled so far."""
    child: Child
    stack: Stack
    metrics_port: int = 0
    produced: int = 0

    @property
    def pipeline(self) -> bool:
        return self.name.startswith("pipeline")

    def timed(self, item: Item) -> bool:
        """Whether a headline's arrival on the output is timed (every one on a floor; on
        the pipeline, the stance changes, whose alerts are matched by headline id)."""
        return item.probe or not self.pipeline

    def drain(self, timeout: float) -> None:
        wait_until(
            lambda: self.processed() >= self.produced,
            timeout,
            f"{self.name} to catch up (of {self.produced})",
            self.child,
        )


def destination(item: Item) -> int:
    """Stance changes go to partition 0 (screened in order); the rest by key."""
    return 0 if item.probe else -1


def produce(producer: Producer, system: System, item: Item) -> None:
    while True:
        try:
            producer.produce(
                system.topic, item.value, item.id.encode(), partition=destination(item)
            )
            break
        except BufferError:
            producer.poll(0.05)
    producer.poll(0)
    system.produced += 1


def latency_producer(bootstrap: str) -> Producer:
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            **kafka_security(),
            "linger.ms": 0,
            "enable.idempotence": False,
        }
    )


class Peak(threading.Thread):
    """The peak RSS of a process (and its children), sampled with psutil every 0.2 s, and
    the kernel's high-water mark read at the end."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True, name="rss")
        self._process = psutil.Process(pid)
        self._halt = threading.Event()
        self.peak = 0

    def run(self) -> None:
        while not self._halt.wait(0.2):
            try:
                processes = [self._process, *self._process.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in processes)
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)

    def stop(self) -> int:
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{self._process.pid}/status").read_text()
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
            if match:
                self.peak = max(self.peak, int(match.group(1)) * 1024)
        self._halt.set()
        return self.peak


def worker_metrics(port: int) -> dict[str, float]:
    """The worker's ``stancewire_headlines_total`` by outcome, and its alerts."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: dict[str, float] = {"alerts": 0.0}
    for line in text.splitlines():
        match = re.match(r'stancewire_headlines_total\{outcome="(\w+)"\} (\S+)', line)
        more = re.match(r'stancewire_(stance_updates|duplicates)_total\{\w+="(\w+)"\} (\S+)', line)
        if match:
            found[match.group(1)] = float(match.group(2))
        elif more:
            found[f"{more.group(1)}.{more.group(2)}"] = float(more.group(3))
        elif line.startswith("stancewire_alerts_total{"):
            found["alerts"] += float(line.rsplit(" ", 1)[1])
    return found


def _metrics_answer(port: int) -> bool:
    try:
        worker_metrics(port)
    except OSError:
        return False
    return True


def create_topics(bootstrap: str, partitions: dict[str, int]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap, **kafka_security()})
    futures = admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
    for future in futures.values():
        future.result(30)


def redis_memory(url: str) -> tuple[int, int]:
    with Redis.from_url(url) as client:
        return int(client.info("memory")["used_memory"]), int(client.dbsize())


# --- one run -------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    wire: Wire
    shared: list[Item]
    """The throughput wire, the same for the three systems (a floor faster than the list is
    long sees it again; the pipeline never gets that far)."""
    result: dict[str, Any] = field(default_factory=dict)
    rss_peak: int = 0

    @contextlib.contextmanager
    def running(
        self, name: str, timing: bool, env: dict[str, str] | None = None
    ) -> Iterator[System]:
        """``name`` (a floor or the pipeline) on a fresh broker and Redis, warmed up: its
        group joined and a first headline through."""
        with contextlib.ExitStack() as exits:
            stack = exits.enter_context(Stack())
            wait_ms = 5 if timing else 100
            if name in FLOORS:
                source, target = f"bench.{name}.in", f"bench.{name}.out"
                create_topics(stack.bootstrap, {source: HEADLINES.partitions, target: 4})
                output = Output(stack.bootstrap, target, alerts=False, fetch_wait_ms=wait_ms)
                child = self._start_floor(stack, name, source, target)
                system = System(name, source, output, lambda: output.count, child, stack)
            else:
                output = Output(stack.bootstrap, ALERTS.name, alerts=True, fetch_wait_ms=wait_ms)
                port = free_port()
                child = stack.start_worker(metrics_port=port, env=env)
                wait_until(lambda: _metrics_answer(port), 60, "the worker's /metrics", child)
                system = System(
                    name, HEADLINES.name, output, lambda: screened(port), child, stack, port
                )
                peak = Peak(child.process.pid)
                peak.start()
                exits.callback(lambda: setattr(self, "rss_peak", max(self.rss_peak, peak.stop())))
            output.start()
            exits.callback(output.stop)
            exits.callback(child.stop)
            producer = latency_producer(stack.bootstrap)
            item = self.wire.next_item(probe=True)
            started = time.perf_counter()
            output.watch[item.id] = started
            produce(producer, system, item)
            producer.flush(10)
            wait_until(lambda: item.id in output.arrived, 120, f"{name}'s first output", child)
            del producer  # before the broker stops, or librdkafka logs the refused reconnects
            system.drain(30)
            log(f"{name}: first output {time.perf_counter() - started:.1f} s after the first input")
            time.sleep(1.0)
            yield system

    def _start_floor(self, stack: Stack, name: str, source: str, target: str) -> Child:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if name == "kafka_floor":
            argv = [sys.executable, "-m", "bench._kafka_floor", stack.bootstrap,
                    "bench-kafka-floor", source, target]  # fmt: skip
        else:
            env.update(
                STANCEWIRE_BOOTSTRAP=stack.bootstrap,
                STANCEWIRE_REDIS_URL=stack.redis_url,
                STANCEWIRE_GROUP_ID="bench-faust-floor",
                STANCEWIRE_FETCH_WAIT_SECONDS="0.01",  # as Stack.start_worker sets
            )
            argv = [sys.executable, "-m", "bench._faust_floor", source, target]
        child = spawn(name, argv, stack.log_dir, env=env)
        stack.children.append(child)
        return child

    def fresh_items(self) -> Iterator[Item]:
        i = 0
        while True:
            i += 1
            yield self.wire.next_item(probe=i % THROUGHPUT_PROBE_EVERY == 0)

    def throughput(self, system: System, items: Iterable[Item], seconds: float) -> float:
        """Headlines/s over ``seconds`` with a backlog always waiting."""
        producer = kafka.producer(system.stack.bootstrap)
        source = iter(items)

        def top_up(count: int) -> None:
            for _ in range(count):
                produce(producer, system, next(source))
            producer.flush(60)

        top_up(BACKLOG)
        spy = self._profile(system, seconds, "") if system.pipeline else None
        started, first = time.perf_counter(), system.processed()
        window = (started, first)
        while time.perf_counter() < started + seconds:
            if not system.child.alive():
                raise RuntimeFailure(f"{system.name} died:\n{system.child.log_tail()}")
            done = system.processed()
            if system.produced - done < BACKLOG // 2:
                top_up(TOP_UP)
            now = time.perf_counter()
            if now - window[0] >= 5:
                log(f"{system.name}: {(done - window[1]) / (now - window[0]):.0f}/s")
                window = (now, done)
            time.sleep(1.0 if system.pipeline else 0.2)  # a scrape costs the worker ~1 ms
        ended, last = time.perf_counter(), system.processed()
        rate = (last - first) / (ended - started)
        if spy is not None:
            spy.wait(60)
        system.drain(60 + (system.produced - last) / max(rate, 1.0) * 2)
        return rate

    def _profile(
        self, system: System, seconds: float, suffix: str
    ) -> subprocess.Popen[bytes] | None:
        """py-spy (if installed) on the worker while its throughput (or latency at 500/s,
        ``suffix`` .500) is timed."""
        if not self.args.profile:
            return None
        binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(binary).exists():
            log("py-spy is not installed: no profile")
            return None
        out = f"{self.args.profile}{suffix}"
        argv = [binary, "record", "--pid", str(system.child.process.pid), "--duration",
                str(int(seconds)), "--rate", "100", "--format", "raw", "--output", out,
                "--nonblocking"]  # fmt: skip
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def latency(self, system: System, rate: float, seconds: float) -> dict[str, Any]:
        """Offer ``rate`` headlines/s for ``seconds``; time the timed ones to their output."""
        count, every = int(rate * seconds), max(1, round(rate / PROBES_PER_SECOND))
        batch = [self.wire.next_item(probe=i % every == every // 2) for i in range(count)]
        producer = latency_producer(system.stack.bootstrap)
        watch, arrived = system.output.watch, system.output.arrived
        timed: list[str] = []
        spy = self._profile(system, seconds, ".500") if system.pipeline and rate == 500 else None
        started = time.perf_counter()
        for i, item in enumerate(batch):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if system.timed(item):
                watch[item.id] = time.perf_counter()
                timed.append(item.id)
            produce(producer, system, item)
        offered = count / (time.perf_counter() - started)
        producer.flush(30)
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        while time.monotonic() < deadline and not all(hid in arrived for hid in timed[-20:]):
            time.sleep(0.05)
        time.sleep(0.5)
        if spy is not None:
            spy.wait(60)
        latencies = [(arrived[hid] - watch[hid]) * 1000 for hid in timed if hid in arrived]
        quarters = [timed[q * len(timed) // 4 : (q + 1) * len(timed) // 4] for q in range(4)]
        found: dict[str, Any] = {
            "offered_per_second": round(offered, 1),
            "timed": len(timed),
            "missing": len(timed) - len(latencies),
            **percentiles(latencies),
            "p50_ms_by_quarter": [
                percentiles([(arrived[h] - watch[h]) * 1000 for h in q if h in arrived]).get(
                    "p50_ms"
                )
                for q in quarters
            ],
        }
        if found["missing"] and system.pipeline:
            found["missing_ids"] = [hid for hid in timed if hid not in arrived][:5]
            found["worker"] = worker_metrics(system.metrics_port)
        return found

    def after_idle(self, system: System) -> float | None:
        """Milliseconds from produce to alert of the first headline after an idle spell."""
        producer = latency_producer(system.stack.bootstrap)
        log(f"{system.name}: idle for {self.args.idle_seconds} s")
        deadline = time.monotonic() + self.args.idle_seconds
        while time.monotonic() < deadline:
            if not system.child.alive():
                raise RuntimeFailure(f"the worker died while idle:\n{system.child.log_tail()}")
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        item = self.wire.next_item(probe=True)
        watch, arrived = system.output.watch, system.output.arrived
        watch[item.id] = time.perf_counter()
        produce(producer, system, item)
        producer.flush(10)
        deadline = time.monotonic() + 30
        while item.id not in arrived and time.monotonic() < deadline:
            time.sleep(0.001)
        if item.id not in arrived:
            return None
        return round((arrived[item.id] - watch[item.id]) * 1000, 2)

    def redis_window(self, system: System) -> None:
        """Redis memory per 100,000 headlines in the dedup windows: ``--redis-headlines``
        more screened on top of the throughput run's."""
        before, keys_before = redis_memory(system.stack.redis_url)
        screened_before = system.processed()
        producer = kafka.producer(system.stack.bootstrap)
        source = self.fresh_items()
        for _ in range(self.args.redis_headlines):
            produce(producer, system, next(source))
        producer.flush(60)
        rate = self.result.get("pipeline_throughput") or 100.0
        system.drain(120 + self.args.redis_headlines / rate * 3)
        after, keys_after = redis_memory(system.stack.redis_url)
        added = system.processed() - screened_before
        self.result["redis_headlines"] = added
        self.result["redis_keys_added"] = keys_after - keys_before
        self.result["redis_mb_per_100k_headlines"] = round(
            (after - before) / added * 100_000 / 2**20, 2
        )
        self.result["redis_used_mb"] = round(after / 2**20, 1)

    # --- the sequence ----------------------------------------------------------------------

    def system(self, name: str) -> None:
        args, result = self.args, self.result
        with self.running(name, timing=False) as system:
            log(f"{name}: throughput for {args.seconds} s")
            rate = self.throughput(system, itertools.cycle(self.shared), args.seconds)
            result[f"{name}_throughput"] = round(rate, 1)
            log(f"{name}: {rate:.0f} headlines/s")
            if system.pipeline:
                result["pipeline_outcomes"] = worker_metrics(system.metrics_port)
                if args.redis_headlines:
                    self.redis_window(system)
                    log(f"{name}: {result['redis_mb_per_100k_headlines']} MB of Redis per 100k")
        by_rate: dict[str, Any] = {}
        for offered in RATES:
            with self.running(name, timing=True) as system:
                by_rate[str(offered)] = self.latency(system, offered, args.latency_seconds)
                log(f"{name} at {offered}/s: {by_rate[str(offered)]}")
                if system.pipeline and offered == RATES[0] and args.idle_seconds:
                    result["first_after_idle_ms"] = self.after_idle(system)
                    result["idle_seconds"] = args.idle_seconds
                    log(f"{name}: first alert after idle: {result['first_after_idle_ms']} ms")
        result[f"{name}_latency"] = by_rate
        key = "p99_ms_at_500" if name == "pipeline" else f"{name}_p99_ms_at_500"
        result[key] = by_rate["500"].get("p99_ms")

    def lexicon_curve(self) -> None:
        """Throughput with the packaged lexicon (measured above) and with ~200 governments."""
        packaged = sum(
            1
            for line in PACKAGED_LEXICON.read_text(encoding="utf-8").splitlines()
            if '"kind": "government"' in line
        )
        with tempfile.TemporaryDirectory(prefix="bench-lexicon-") as tmp:
            path = Path(tmp) / "lexicon.jsonl"
            governments = big_lexicon(path)
            env = {"STANCEWIRE_LEXICON_PATH": str(path)}
            name = f"pipeline_{governments}_governments"
            with self.running(name, timing=False, env=env) as system:
                rate = self.throughput(system, itertools.cycle(self.shared), self.args.seconds)
        log(f"{name}: {rate:.0f} headlines/s")
        self.result["throughput_by_governments"] = {
            str(packaged): self.result.get("pipeline_throughput"),
            str(governments): round(rate, 1),
        }


_scraped: dict[int, tuple[float, int]] = {}


def screened(port: int) -> int:
    """Headlines the worker on ``port`` has screened, scraped at most every 0.5 s (each
    scrape costs the worker about a millisecond)."""
    at, count = _scraped.get(port, (0.0, 0))
    if time.monotonic() - at >= 0.5:
        outcomes = worker_metrics(port).items()
        count = int(sum(v for k, v in outcomes if k != "alerts" and "." not in k))
        _scraped[port] = (time.monotonic(), count)
    return count


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
    }


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        found = re.search(r"^Model name:\s+(.+)$", lscpu, re.M)
        model = found.group(1).strip() if found else model
    commit = "unknown"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def append_results(result: dict[str, Any], args: argparse.Namespace) -> None:
    where, r = result["machine"], result
    lines = [
        f"## pipeline.py: {where['date']}, commit {where['commit']}",
        "",
        f"Machine: {where['cpu']}, {where['cores']} cores (load average at start "
        f"{', '.join(map(str, where['load_average_at_start']))}); embedded broker (tansu) and "
        f"redis-server. `python bench/pipeline.py --seconds {args.seconds:g} "
        f"--latency-seconds {args.latency_seconds:g} --idle-seconds {args.idle_seconds:g}`.",
        "",
        "| system | throughput /s | offered /s | p50 ms | p95 ms | p99 ms | max ms | timed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in (*FLOORS, "pipeline"):
        for offered, stats in (r.get(f"{name}_latency") or {}).items():
            lines.append(
                f"| {name} | {r.get(f'{name}_throughput')} | {offered} | {stats.get('p50_ms')} "
                f"| {stats.get('p95_ms')} | {stats.get('p99_ms')} | {stats.get('max_ms')} "
                f"| {stats['timed'] - stats['missing']}/{stats['timed']} |"
            )
    lines += [
        "",
        f"Ratio pipeline / Faust floor: {r.get('ratio')}. Worker peak RSS: "
        f"{r.get('worker_rss_mb')} MB. First alert after {r.get('idle_seconds')} s idle: "
        f"{r.get('first_after_idle_ms')} ms. Redis: {r.get('redis_mb_per_100k_headlines')} MB "
        f"per 100,000 headlines ({r.get('redis_headlines')} screened). Throughput by lexicon "
        f"size (governments): {r.get('throughput_by_governments')}.",
        "",
        "```json",
        json.dumps(result),
        "```",
        "",
    ]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nAppended by the scripts in bench/.\n")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines) + "\n")


HEADLINE_KEYS = (
    "faust_floor_throughput",
    "pipeline_throughput",
    "ratio",
    "p99_ms_at_500",
    "kafka_floor_p99_ms_at_500",
    "faust_floor_p99_ms_at_500",
    "worker_rss_mb",
    "first_after_idle_ms",
    "idle_seconds",
    "kafka_floor_throughput",
    "redis_mb_per_100k_headlines",
    "throughput_by_governments",
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="each throughput run")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="each offered load")
    parser.add_argument("--idle-seconds", type=float, default=300.0, help="0: skip")
    parser.add_argument(
        "--redis-headlines", type=int, default=100_000, help="screened to measure Redis (0: skip)"
    )
    parser.add_argument(
        "--no-lexicon", dest="lexicon", action="store_false", help="skip the 200-government run"
    )
    parser.add_argument(
        "--only", choices=(*FLOORS, "pipeline"), action="append", help="these systems only"
    )
    parser.add_argument("--profile", type=Path, help="py-spy raw profile of the worker here")
    parser.add_argument("--append-results", action="store_true", help="to bench/RESULTS.md")
    args = parser.parse_args()
    started = time.monotonic()
    result: dict[str, Any] = {"machine": machine()}
    log("building the wire")
    wire = Wire()
    shared = [
        wire.next_item(probe=i % THROUGHPUT_PROBE_EVERY == 0)
        for i in range(1, BACKLOG + int(args.seconds * 4000) + 1)
    ]
    run = Run(args, wire, shared, result)
    for name in args.only or (*FLOORS, "pipeline"):
        run.system(name)
    if args.lexicon and (not args.only or "pipeline" in args.only):
        run.lexicon_curve()
    if run.rss_peak:
        result["worker_rss_mb"] = round(run.rss_peak / 2**20, 1)
    if result.get("faust_floor_throughput") and result.get("pipeline_throughput"):
        result["ratio"] = round(result["pipeline_throughput"] / result["faust_floor_throughput"], 3)
    result.update(
        seconds=args.seconds,
        latency_seconds=args.latency_seconds,
        wall_seconds=round(time.monotonic() - started),
    )
    result = {**{key: result.get(key) for key in HEADLINE_KEYS}, **result}
    if args.append_results:
        append_results(result, args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
