"""Get an access token for the facade from the local stack's identity provider (client-credentials grant).

In Azure the same request goes to https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token with your
app registration's client id and secret, and the scope of the facade's API.
"""

from __future__ import annotations

import os

import requests

IDP_URL = os.environ.get("IDP_URL", "http://127.0.0.1:7072")
TENANT_ID = os.environ.get("TENANT_ID", "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a")  # the local stack's tenant
AUDIENCE = os.environ.get("AUDIENCE", "api://signalr-facade-dev")  # the local stack's API audience


def get_token(client_id: str = "my-backend", client_secret: str = "any-secret-works-locally") -> str:
    response = requests.post(
        f"{IDP_URL}/{TENANT_ID}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": f"{AUDIENCE}/.default",
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


if __name__ == "__main__":
    print(get_token())
