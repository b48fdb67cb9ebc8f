"""First-request child, baseline side: the naive hand-written authenticated function.

What one writes from the PyJWT and Entra documentation: on the first call, read the tenant's
OpenID configuration for its ``jwks_uri``, then let ``PyJWKClient`` fetch the keys (two
round trips in a row), verify the RS256 token (issuer, audience), check the role, sign the
HS256 upstream token and post. Both objects are kept for later calls, nothing is fetched at
load. It is a Functions app like the facade, loaded and invoked the same way.
"""

from __future__ import annotations

import os
import time

import azure.functions as func
import jwt
import requests

ENDPOINT = os.environ["BENCH_UPSTREAM"]
ACCESS_KEY = os.environ["BENCH_ACCESS_KEY"]
METADATA_URL = os.environ["ENTRA_METADATA_URL"]
AUDIENCE = os.environ["ENTRA_AUDIENCES"]

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
_trust: tuple[str, jwt.PyJWKClient] | None = None


def _issuer_and_keys() -> tuple[str, jwt.PyJWKClient]:
    global _trust
    if _trust is None:
        metadata = requests.get(METADATA_URL, timeout=10).json()
        _trust = (metadata["issuer"], jwt.PyJWKClient(metadata["jwks_uri"]))
    return _trust


@app.route(route="v1/hubs/{hub}", methods=["POST"])
def broadcast(req: func.HttpRequest) -> func.HttpResponse:
    token = req.headers.get("Authorization", "").removeprefix("Bearer ")
    issuer, keys = _issuer_and_keys()
    try:
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer)
    except jwt.PyJWTError:
        return func.HttpResponse(status_code=401)
    if "SignalR.Send" not in claims.get("roles", []):
        return func.HttpResponse(status_code=403)
    url = f"{ENDPOINT}/api/v1/hubs/{req.route_params['hub']}"
    now = int(time.time())
    upstream_token = jwt.encode({"aud": url, "iat": now, "exp": now + 3600}, ACCESS_KEY, algorithm="HS256")
    answer = requests.post(url, data=req.get_body(), timeout=10,
                           headers={"Authorization": f"Bearer {upstream_token}", "Content-Type": "application/json"})
    return func.HttpResponse(status_code=answer.status_code)
