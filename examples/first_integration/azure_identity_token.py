"""The production code path, locally: azure-identity's ClientSecretCredential against the local stack.

azure-identity (and MSAL under it) accept only https authorities, so the local identity provider also
listens on https (port 7074) with a throwaway certificate; trust it for this process with
REQUESTS_CA_BUNDLE=.devstack/idp/tls-cert.pem. In Azure, drop `authority` and
`disable_instance_discovery`, and use your tenant, app registration and secret (or a managed identity).
"""

from __future__ import annotations

import os

from azure.identity import ClientSecretCredential
from dev_token import AUDIENCE, TENANT_ID

credential = ClientSecretCredential(
    TENANT_ID,
    client_id="my-backend",
    client_secret="any-secret-works-locally",
    authority=os.environ.get("IDP_TLS_URL", "https://127.0.0.1:7074"),
    disable_instance_discovery=True,  # the local provider is not a Microsoft cloud
)
token = credential.get_token(f"{AUDIENCE}/.default")
print(token.token)
