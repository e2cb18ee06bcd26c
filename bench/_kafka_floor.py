"""The confluent-kafka floor of bench/pipeline.py: consume a topic, produce each message
unchanged (key and value) to another, in one plain loop. No Python work per message beyond
the two calls, so its latency and throughput are what the broker and librdkafka allow.

Settings (from the issue): fetch wait 5 ms, linger 0; the group's session timeout is the
worker's (6 s, so a join takes ~3 s on the embedded broker).

    python -m bench._kafka_floor BOOTSTRAP GROUP IN_TOPIC OUT_TOPIC
"""

from __future__ import annotations

import signal
import sys

from confluent_kafka import Consumer, Producer

from schemas.settings import kafka_security


def main() -> None:
    bootstrap, group, source, target = sys.argv[1:5]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            **kafka_security(),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 1000,
            "fetch.wait.max.ms": 5,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1500,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            **kafka_security(),
            "linger.ms": 0,
            "enable.idempotence": False,
        }
    )
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    consumer.subscribe([source])
    while running:
        message = consumer.poll(0.1)
        if message is None or message.error():
            producer.poll(0)
            continue
        while True:
            try:
                producer.produce(target, message.value(), message.key())
                break
            except BufferError:  # queue full: let deliveries drain
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(10)
    consumer.close()


if __name__ == "__main__":
    main()
