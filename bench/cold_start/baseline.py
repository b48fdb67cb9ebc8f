"""Cold-start child, baseline side: a minimal hand-written function doing the same broadcast.

One HTTP function, bare ``requests`` + ``pyjwt``: sign the HS256 upstream token and post.
No caller authentication, no validation, no catalog. It is a Functions app like the facade
(loaded and invoked the same way) so that both sides pay the worker library's import.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402

import azure.functions as func  # noqa: E402
import jwt  # noqa: E402
import requests  # noqa: E402

from bench.cold_start.invoke import invoke  # noqa: E402

ENDPOINT = os.environ["BENCH_UPSTREAM"]
ACCESS_KEY = os.environ["BENCH_ACCESS_KEY"]

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="v1/hubs/{hub}", methods=["POST"])
def broadcast(req: func.HttpRequest) -> func.HttpResponse:
    url = f"{ENDPOINT}/api/v1/hubs/{req.route_params['hub']}"
    now = int(time.time())
    token = jwt.encode({"aud": url, "iat": now, "exp": now + 3600}, ACCESS_KEY, algorithm="HS256")
    answer = requests.post(url, data=req.get_body(), timeout=10,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return func.HttpResponse(status_code=answer.status_code)


IMPORTED = time.perf_counter()
status = invoke(app, "broadcast", None)
done = time.perf_counter()
print(json.dumps({"status": status, "import_s": IMPORTED - STARTED, "call_s": done - IMPORTED}))
