"""Baseline function app for the queue benchmark (copied as ``function_app.py`` into a temp dir).

A minimal hand-written queue function: parse the command, sign the HS256 upstream token with
pyjwt, post with one ``requests.Session``. A 4xx answer is dead-lettered (the facade's
promise that nothing is lost silently), anything else failing raises so the host retries.
No validation, no catalog: the upstream refuses what is bad.
"""

from __future__ import annotations

import json
import os
import time

import azure.functions as func
import jwt
import requests

app = func.FunctionApp()
_session = requests.Session()
_session.trust_env = False


def _upstream() -> tuple[str, str]:
    parts = dict(p.split("=", 1) for p in os.environ["AzureSignalRConnectionString"].split(";") if "=" in p)
    return f"{parts['Endpoint']}:{parts['Port']}", parts["AccessKey"]


@app.queue_trigger(arg_name="msg", queue_name="%SIGNALR_COMMANDS_QUEUE%", connection="SIGNALR_COMMANDS_STORAGE")
@app.queue_output(arg_name="deadletter", queue_name="%SIGNALR_COMMANDS_QUEUE%-invalid",
                  connection="SIGNALR_COMMANDS_STORAGE")
def execute_command(msg: func.QueueMessage, deadletter: func.Out[str]) -> None:
    command = json.loads(msg.get_body())
    endpoint, key = _upstream()
    path = f"/api/v1/hubs/{command['hub']}"
    now = int(time.time())
    token = jwt.encode({"aud": f"http://127.0.0.1{path}", "iat": now, "exp": now + 3600}, key, algorithm="HS256")
    payload = command["payload"]
    answer = _session.post(endpoint + path, json={"Target": payload["target"], "Arguments": payload["arguments"]},
                           headers={"Authorization": f"Bearer {token}"}, timeout=(3.05, 10))
    if 400 <= answer.status_code < 500:
        deadletter.set(json.dumps({"reason": f"upstream answered {answer.status_code}", "original": command}))
        return
    answer.raise_for_status()
