"""Feed poller throughput: 100 local feeds of 20 items each, into the embedded broker.

Run from the repo root: ``.venv/bin/python bench/feeds.py [--feeds 100 --items 20]``.
Starts an embedded broker and Redis (stancewire.runtime.Stack), a loopback HTTP server
serving generated RSS 2.0 feeds, and the poller as a real process; times

1. a cold poll: from the poller's first request to every item acknowledged by the broker
   (fetch, parse, Redis check, produce, ack, mark sent) -> items per second;
2. a warm restart: a second poller, whose every feed answers 304 from the stored ETag;
3. parsing alone (feedparser + entry -> Headline), in this process, for reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

from producers.feeds import entry_headline, parse_feed
from stancewire.runtime import Stack, free_port, spawn, wait_until


def document(feed: int, items: int, run: str) -> bytes:
    entries = "".join(
        f"<item><title>Feed {feed} story {n}: minister says tariffs on steel stay under review"
        f"</title><link>https://wire{feed}.example/{run}/{n}</link>"
        f"<guid>{run}-{feed}-{n}</guid><pubDate>Tue, 10 Jun 2025 {n % 24:02d}:15:00 +0000"
        f"</pubDate><description>&lt;p&gt;The ministry said on &lt;b&gt;Tuesday&lt;/b&gt; "
        f"that talks with U.S. officials would continue. A decision is due next week."
        f"&lt;/p&gt;</description></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Wire {feed}</title><link>https://wire{feed}.example/</link>{entries}"
        f"</channel></rss>"
    ).encode()


def serve(docs: dict[str, bytes], first_request: list[float]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if not first_request:
                first_request.append(time.perf_counter())
            body = docs[self.path]
            tag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", tag)
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def metrics(port: int) -> dict[str, float]:
    try:
        body = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return {}
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line and not line.startswith("#")
    }


def total(port: int, prefix: str) -> float:
    return sum(v for k, v in metrics(port).items() if k.startswith(prefix))


def run_poller(stack: Stack, config: Path, name: str, concurrency: int) -> tuple[int, object]:
    port = free_port()
    env = {**os.environ, "STANCEWIRE_CONCURRENCY": str(concurrency)}
    argv = [
        sys.executable, "-m", "stancewire", "ingest", "feeds", str(config),
        "--bootstrap", stack.bootstrap, "--redis", stack.redis_url, "--metrics-port", str(port),
    ]  # fmt: skip
    child = spawn(name, argv, stack.log_dir, env=env)
    stack.children.append(child)
    return port, child


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    docs = {f"/feed/{n}.xml": document(n, args.items, run) for n in range(args.feeds)}
    expected = args.feeds * args.items

    # 3. Parsing alone, for reference.
    started = time.perf_counter()
    fetched = datetime.now(UTC)
    parsed_items = 0
    for body in docs.values():
        for entry in parse_feed(body, "application/rss+xml").entries:
            parsed_items += entry_headline("bench", entry, fetched) is not None
    parse_seconds = time.perf_counter() - started

    first_request: list[float] = []
    httpd = serve(docs, first_request)
    port = httpd.server_address[1]
    with Stack() as stack, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "feeds.json"
        feeds = [
            {"name": f"bench-{run}-{n}", "url": f"http://127.0.0.1:{port}/feed/{n}.xml"}
            for n in range(args.feeds)
        ]
        config.write_text(json.dumps({"defaults": {"interval_seconds": 3600}, "feeds": feeds}))

        # 1. Cold: everything is new.
        metrics_port, child = run_poller(stack, config, "bench-cold", args.concurrency)
        wait_until(
            lambda: total(metrics_port, "stancewire_feed_items_total") >= expected,
            300,
            "every item acknowledged",
            child,  # type: ignore[arg-type]
        )
        cold = time.perf_counter() - first_request[0]
        child.stop()  # type: ignore[attr-defined]

        # 2. Warm restart: every feed answers 304.
        first_request.clear()
        metrics_port, child = run_poller(stack, config, "bench-warm", args.concurrency)
        wait_until(
            lambda: bool(
                total(metrics_port, 'stancewire_feed_fetches_total{feed="bench')
                and sum(
                    v for k, v in metrics(metrics_port).items() if 'outcome="not_modified"' in k
                )
                >= args.feeds
            ),
            300,
            "every feed answered 304",
            child,  # type: ignore[arg-type]
        )
        warm = time.perf_counter() - first_request[0]
        sent_again = total(metrics_port, "stancewire_feed_items_total")
        child.stop()  # type: ignore[attr-defined]
    httpd.shutdown()

    body_kb = sum(map(len, docs.values())) / len(docs) / 1024
    print(
        f"{args.feeds} feeds x {args.items} items ({body_kb:.1f} KB each), "
        f"concurrency {args.concurrency}, {os.cpu_count()} CPUs"
    )
    print(
        f"cold poll: {expected} items in {cold:.2f} s = {expected / cold:,.0f} items/s "
        f"(fetch, parse, Redis, produce, broker ack, mark sent)"
    )
    print(
        f"warm restart: {args.feeds} feeds answered 304 in {warm:.2f} s "
        f"= {args.feeds / warm:,.0f} feeds/s; items sent again: {sent_again:.0f}"
    )
    print(
        f"parsing alone (feedparser + mapping, one thread): {parsed_items} items in "
        f"{parse_seconds:.2f} s = {parsed_items / parse_seconds:,.0f} items/s"
    )


if __name__ == "__main__":
    main()
