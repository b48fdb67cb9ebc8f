"""``make smoke URL=... SCOPE=... STORAGE=...``: check a deployed facade end to end, the parts most likely
to fail on role assignments (docs/deploy.md, "Smoke test"):

1. ``GET /api/health`` is healthy (settings, and SignalR reachable with the app's identity);
2. a broadcast over HTTP is accepted (202: the app may send through SignalR);
3. negotiate answers a client URL and token (``SignalR.Connect``), and a client connects with them;
4. a command put on the commands queue reaches that client (the queue trigger's Storage roles);
5. a message the client sends to the hub comes back as an event on the events queue (SignalR's
   upstream to the facade, its identity's token, and the facade's Storage roles).

The caller's token (``--token``, e.g. from ``az account get-access-token``) needs SignalR.Send and
SignalR.Connect; the signed-in identity (azure-identity's DefaultAzureCredential, e.g. ``az login``)
needs "Storage Queue Data Message Sender" and "Storage Queue Data Reader" on the storage account.
Each check prints one line; the exit status is the number of checks that failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid

import requests

WAIT = 90.0  # seconds for the queue and events paths (the queue trigger polls; events go through SignalR)


def check(name: str, ok: bool, detail: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)
    return ok


def problem(response: requests.Response) -> str:
    try:
        return f"{response.status_code} {response.json().get('detail', '')}"
    except ValueError:
        return str(response.status_code)


def run(url: str, token: str, queues, hub: str = "chat") -> int:
    """``queues``: name -> QueueClient for the commands and events queues (or None to skip those checks)."""
    from signalrcore.hub_connection_builder import HubConnectionBuilder
    from signalrcore.protocol.json_hub_protocol import JsonHubProtocol

    api, auth = f"{url.rstrip('/')}/api", {"Authorization": f"Bearer {token}"}
    marker = f"smoke-{uuid.uuid4().hex[:12]}"
    failed = 0
    health = requests.get(f"{api}/health", timeout=30)
    failed += not check("health", health.status_code == 200, health.text[:300] if health.status_code != 200 else "")
    sent = requests.post(f"{api}/v1/hubs/{hub}", headers=auth, json={"target": "smoke", "arguments": [marker]},
                         timeout=30)
    failed += not check("broadcast over HTTP", sent.status_code == 202,
                        problem(sent) if sent.status_code != 202 else "")
    negotiated = requests.post(f"{api}/v1/hubs/{hub}/negotiate", headers=auth, timeout=30)
    if not check("negotiate", negotiated.status_code == 200, problem(negotiated) if negotiated.status_code != 200
                 else ""):
        return failed + 1 + (2 if queues else 0)
    answer = negotiated.json()
    received, opened = [], threading.Event()
    connection = (HubConnectionBuilder()
                  .with_url(answer["url"], options={"access_token_factory": lambda: answer["accessToken"]})
                  .with_hub_protocol(JsonHubProtocol()).configure_logging(logging.CRITICAL).build())
    connection.on("smoke", received.append)
    connection.on_open(opened.set)
    connection.start()
    failed += not check("client connected", opened.wait(30))
    try:
        if queues is not None:
            queues["commands"].send_message(json.dumps({"operation": "broadcast", "hub": hub, "id": marker,
                                                        "payload": {"target": "smoke", "arguments": [marker, "q"]}}))
            failed += not check("commands queue reaches clients", _wait(lambda: [marker, "q"] in received),
                                "nothing arrived: see <queue>-invalid and the app's log")
            connection.send("smoke", [marker, "event"])
            failed += not check("client events reach the events queue", _wait(lambda: _event_seen(
                queues["events"], marker)), "not on the events queue (a backend may have taken it first)")
    finally:
        connection.stop()
    return failed


def _wait(condition) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(1)
    return False


def _event_seen(events, marker: str) -> bool:
    return any(marker in message.content for message in events.peek_messages(max_messages=32))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the function app's URL, e.g. https://<app>.azurewebsites.net")
    parser.add_argument("--token", required=True, help="an access token for the facade's API")
    parser.add_argument("--storage-account", default="", help="the commands/events storage account (name)")
    parser.add_argument("--storage-connection", default="", help="or a connection string (local stack)")
    parser.add_argument("--commands-queue", default="signalr-commands")
    parser.add_argument("--events-queue", default="signalr-events")
    args = parser.parse_args(argv)
    queues = None
    if args.storage_account or args.storage_connection:
        from azure.storage.queue import QueueClient

        def client(name: str) -> QueueClient:
            if args.storage_connection:
                return QueueClient.from_connection_string(args.storage_connection, name)
            from azure.identity import DefaultAzureCredential

            return QueueClient(f"https://{args.storage_account}.queue.core.windows.net", name,
                               credential=DefaultAzureCredential())

        queues = {"commands": client(args.commands_queue), "events": client(args.events_queue)}
    else:
        print("skip the queue checks: no --storage-account", flush=True)
    failed = run(args.url, args.token, queues)
    print("smoke test passed" if not failed else f"smoke test: {failed} check(s) failed", flush=True)
    return min(failed, 100)


if __name__ == "__main__":
    raise SystemExit(main())
