"""Put prepared messages on a queue, never letting it grow past a depth, from its own process.

``python -m bench.queue.producer --connection-file F --queue Q --messages FILE --seconds S``
sends the JSON array of message texts in FILE. A benchmark runs this as a child while the
local host drains the queue, so the producer's Storage SDK work does not share the host's
interpreter lock (in-process it slowed the host by about a third, which flattered whatever
side it measured against).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SENDER_THREADS = 8
CHUNK = 200


class QueueDepth:
    """Queue lengths from clients made once: the watcher shares the host's interpreter, so its
    polls should cost the host as little as they can (a client built per call costs noticeably more)."""

    def __init__(self, connection_string: str) -> None:
        self.connection_string = connection_string
        self._clients: dict[str, object] = {}

    def __call__(self, queue: str) -> int:
        from azure.storage.queue import QueueClient

        client = self._clients.get(queue)
        if client is None:
            client = self._clients[queue] = QueueClient.from_connection_string(self.connection_string, queue)
        return client.get_queue_properties().approximate_message_count or 0  # type: ignore[attr-defined]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()  # type: ignore[attr-defined]


def produce(connection_string: str, queue: str, messages: list[str], stop_at: float, max_depth: int) -> None:
    """Send ``messages`` in chunks from ``SENDER_THREADS`` threads, waiting (until ``stop_at``,
    a ``time.perf_counter()`` value) while the queue holds more than ``max_depth - CHUNK``."""
    from azure.storage.queue import QueueClient

    def send(part: list[str]) -> None:
        with QueueClient.from_connection_string(connection_string, queue) as client:
            for text in part:
                client.send_message(text)

    depth = QueueDepth(connection_string)
    try:
        with ThreadPoolExecutor(SENDER_THREADS) as pool:
            for start in range(0, len(messages), CHUNK):
                while depth(queue) > max_depth - CHUNK and time.perf_counter() < stop_at:
                    time.sleep(0.05)
                part = messages[start:start + CHUNK]
                list(pool.map(send, [part[t::SENDER_THREADS] for t in range(SENDER_THREADS)]))
    finally:
        depth.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue.producer")
    parser.add_argument("--connection-file", type=Path, required=True, help="holds the Storage connection string")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--messages", type=Path, required=True, help="a JSON array of message texts")
    parser.add_argument("--seconds", type=float, required=True, help="stop waiting for room after this long")
    parser.add_argument("--max-depth", type=int, default=500)
    args = parser.parse_args(argv)
    messages = json.loads(args.messages.read_text())
    connection = args.connection_file.read_text().strip()
    produce(connection, args.queue, messages, time.perf_counter() + args.seconds, args.max_depth)


if __name__ == "__main__":
    main()
