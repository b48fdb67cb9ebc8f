"""Fixture function app for the local host's tests (never deployed).

Queue names and connections come from settings, as in the real app: WORK_QUEUE, AWORK_QUEUE,
and the connection setting "DevStorage".
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_lock = threading.Lock()
_running = {"sync": 0, "async": 0}


@app.route(route="echo/{name}")
def echo(req: func.HttpRequest) -> func.HttpResponse:
    payload = {
        "method": req.method,
        "url": req.url,
        "headers": dict(req.headers),
        "params": dict(req.params),
        "route_params": dict(req.route_params),
        "body": req.get_body().decode("utf-8", errors="replace"),
    }
    status = int(req.headers.get("x-status", "200"))
    response = func.HttpResponse(json.dumps(payload), status_code=status, mimetype="application/json")
    response.headers.add("X-Multi", "one")
    response.headers.add("X-Multi", "two")
    return response


def _text(value: str) -> func.HttpResponse:
    return func.HttpResponse(value)


# Parameters registered before the literals on purpose: the literal still wins (ASP.NET precedence).
@app.route(route="items/{any}", methods=["GET"])
def item_any(req: func.HttpRequest) -> func.HttpResponse:
    return _text(f"any:{req.route_params['any']}")


@app.route(route="items/new", methods=["GET"])
def item_new(req: func.HttpRequest) -> func.HttpResponse:
    return _text("literal")


@app.route(route="hubs/{hub}/{group}", methods=["POST"])
def hub_group(req: func.HttpRequest) -> func.HttpResponse:
    return _text(f"group:{req.route_params['group']}")


@app.route(route="hubs/{hub}/:execute", methods=["POST"])
def execute(req: func.HttpRequest) -> func.HttpResponse:
    return _text(f"execute:{req.route_params['hub']}")


@app.route(route="groups/{group}/members", methods=["GET", "POST"])
def members(req: func.HttpRequest) -> func.HttpResponse:
    return _text(req.route_params["group"])


@app.route(route="headable", methods=["GET", "HEAD"])
def headable(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("body for " + req.method, headers={"X-Method": req.method})


@app.route(route="slow", methods=["GET"])
def slow(req: func.HttpRequest) -> func.HttpResponse:
    time.sleep(float(req.params.get("s", "1")))
    return _text(threading.current_thread().name)


@app.route(route="aslow", methods=["GET"])
async def aslow(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(float(req.params.get("s", "1")))
    return _text(f"async on {threading.current_thread().name}")


@app.route(route="boom", methods=["GET"])
def boom(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("secret-internal-detail")


@app.route(route="setting/{name}", methods=["GET"])
def setting(req: func.HttpRequest) -> func.HttpResponse:
    return _text(os.environ.get(req.route_params["name"], "<unset>"))


@app.route(route="plain", methods=["GET"])
def plain(req: func.HttpRequest) -> str:
    return "just a string"


@app.route(route="enqueue", methods=["POST"])
@app.queue_output(arg_name="out", queue_name="%WORK_QUEUE%-http", connection="DevStorage")
def enqueue(req: func.HttpRequest, out: func.Out[list[str]]) -> func.HttpResponse:
    out.set([line for line in req.get_body().decode("utf-8").splitlines() if line])
    return func.HttpResponse(status_code=202)


def _record(kind: str, delta: int) -> int:
    with _lock:
        _running[kind] += delta
        return _running[kind]


def _work(msg: func.QueueMessage, kind: str, out: func.Out[str], concurrent: int) -> None:
    text = msg.get_body().decode("utf-8")
    try:
        command = json.loads(text)
    except ValueError:
        command = {}
    if msg.dequeue_count <= int(command.get("fail_until", 0)):
        raise RuntimeError(f"planned failure on attempt {msg.dequeue_count}")
    out.set(
        json.dumps(
            {
                "text": text,
                "dequeue_count": msg.dequeue_count,
                "concurrent": concurrent,
                "kind": kind,
                "id": msg.id,
            }
        )
    )


@app.queue_trigger(arg_name="msg", queue_name="%WORK_QUEUE%", connection="DevStorage")
@app.queue_output(arg_name="out", queue_name="%WORK_QUEUE%-out", connection="DevStorage")
def work(msg: func.QueueMessage, out: func.Out[str]) -> None:
    concurrent = _record("sync", 1)
    try:
        _work(msg, "sync", out, concurrent)
    finally:
        _record("sync", -1)


@app.queue_trigger(arg_name="msg", queue_name="%AWORK_QUEUE%", connection="DevStorage")
@app.queue_output(arg_name="out", queue_name="%AWORK_QUEUE%-out", connection="DevStorage")
async def awork(msg: func.QueueMessage, out: func.Out[str]) -> None:
    concurrent = _record("async", 1)
    try:
        command = json.loads(msg.get_body() or b"{}") if msg.get_body().startswith(b"{") else {}
        await asyncio.sleep(float(command.get("sleep", 0)))
        _work(msg, "async", out, concurrent)
    finally:
        _record("async", -1)
