"""``ClientCert`` connection strings (issue 23 item 12): the certificate is used, or the string is a
settings problem; never another credential in its place.

The SDK's parser takes ``ClientCert`` as the path of a certificate file with ``ClientId`` and
``TenantId`` (Azure/azure-signalr src/Microsoft.Azure.SignalR.Common/Utilities/ConnectionStringParser.cs).
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from functions.core.errors import ConfigurationError
from functions.signalr.connection_string import parse_connection_string
from functions.signalr.credentials import EntraCredential

TENANT = "5e7a1c0d-9b2f-4c3e-8d4a-1f2e3d4c5b6a"
CLIENT = "0b1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> str:
    """A self-signed certificate with its key, PEM, as an app registration would hold it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facade")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path = tmp_path_factory.mktemp("cert") / "facade.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.mark.parametrize("auth_type", ["azure.app", "aad"])
def test_a_client_certificate_builds_azure_identitys_certificate_credential(certificate, auth_type):
    info = parse_connection_string(f"Endpoint=https://x.service.signalr.net;AuthType={auth_type};"
                                   f"ClientId={CLIENT};TenantId={TENANT};ClientCert={certificate};Version=1.0;")
    assert info.client_cert == certificate
    built = EntraCredential(info)._build()
    assert type(built).__name__ == "CertificateCredential"  # .NET: ClientCertificateCredential


@pytest.mark.parametrize(("text", "named"), [
    ("AuthType=azure.app;ClientId={c};TenantId={t};ClientCert=/nonexistent/facade.pem", "ClientCert"),
    ("AuthType=aad;ClientId={c};TenantId={t};ClientCert=/nonexistent/facade.pem", "ClientCert"),
    ("AuthType=azure.app;ClientId={c};ClientCert={cert}", "TenantId"),
    ("AuthType=azure.app;ClientId={c};TenantId={t};ClientSecret=s;ClientCert={cert}", "not both"),
    ("AuthType=azure.msi;ClientId={c};ClientCert={cert}", "ClientCert"),
    ("AccessKey=k;ClientCert={cert}", "ClientCert"),
])
def test_a_certificate_that_cannot_be_used_is_a_settings_problem(certificate, text, named):
    with pytest.raises(ConfigurationError) as caught:
        parse_connection_string("Endpoint=https://x.service.signalr.net;Version=1.0;"
                                + text.format(c=CLIENT, t=TENANT, cert=certificate))
    assert named in caught.value.detail
