"""Access-key signatures: either key opens the door, anything else is 401 and nothing is queued."""

from __future__ import annotations

import json

import pytest

from functions.upstream.signature import is_signed, parse_signatures, sign

from .conftest import DEV_ACCESS_KEY, SECONDARY_KEY, service_headers

WRONG_KEY = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"


@pytest.mark.parametrize("keys", [(DEV_ACCESS_KEY,), (SECONDARY_KEY,), (WRONG_KEY, SECONDARY_KEY),
                                  (DEV_ACCESS_KEY, SECONDARY_KEY)])
def test_a_request_signed_with_either_key_is_queued(deliver, keys):
    delivery = deliver(service_headers(keys=keys))
    assert delivery.status == 204
    assert delivery.envelope["authenticatedBy"] == "signature"


def test_lower_case_hex_is_accepted_like_upper_case(deliver):
    signature = "sha256=" + sign("conn-1", DEV_ACCESS_KEY).removeprefix("sha256=").lower()
    assert deliver(service_headers(**{"X-ASRS-Signature": signature})).status == 204


def _refused(delivery) -> None:
    assert delivery.status == 401
    assert delivery.queued is None
    body = json.loads(delivery.response.get_body())
    assert body["status"] == 401
    # The same words whatever failed: nothing tells a forger which check stopped it.
    assert body["detail"] == "The request does not prove that it comes from the SignalR Service"
    assert DEV_ACCESS_KEY not in delivery.response.get_body().decode()


def test_a_wrong_key_is_refused(deliver):
    _refused(deliver(service_headers(keys=(WRONG_KEY,))))


def test_a_signature_over_another_connection_id_is_refused(deliver):
    headers = service_headers(connection_id="conn-1")
    headers["X-ASRS-Signature"] = sign("conn-2", DEV_ACCESS_KEY)
    _refused(deliver(headers))


def test_a_missing_signature_is_refused(deliver):
    _refused(deliver(service_headers(keys=())))


def test_a_missing_connection_id_is_refused(deliver):
    headers = service_headers()
    del headers["X-ASRS-Connection-Id"]
    _refused(deliver(headers))


@pytest.mark.parametrize("header", [
    "", ",", "sha256=", "sha256=xyz", "md5=" + "a" * 64, "sha256=" + "a" * 63, "sha256=" + "a" * 65,
    sign("conn-1", DEV_ACCESS_KEY) + ";" + sign("conn-1", SECONDARY_KEY), "sha256 = " + "a" * 64,
    "SHA256=" + "a" * 64, "md5=" + sign("conn-1", DEV_ACCESS_KEY).removeprefix("sha256="),
    sign("conn-1", DEV_ACCESS_KEY) + "00",
])
def test_a_header_with_no_matching_entry_is_refused(deliver, header):
    _refused(deliver(service_headers(**{"X-ASRS-Signature": header})))


VALID = sign("conn-1", DEV_ACCESS_KEY)


@pytest.mark.parametrize("header", [
    VALID + ",", "," + VALID, VALID + ",,", "sha256=" + "a" * 64 + "," + VALID, "garbage," + VALID,
    "md5=" + "b" * 64 + "," + VALID, "SHA256=" + VALID.removeprefix("sha256="), "Sha256=" + VALID[7:].lower(),
    "sha256=" + "a" * 64 + ", " + VALID,
], ids=["trailing comma", "leading comma", "two commas", "a wrong entry first", "an unknown entry",
        "another algorithm", "upper-case prefix", "mixed-case prefix, lower-case hex", "a space after the comma"])
def test_the_header_is_read_as_the_functions_extension_reads_it(deliver, header):
    # SignalRTriggerUtils.GetSignatureList + SignalRRequestResolver.ValidateSignature: split on ',',
    # empty entries dropped, entries compared ignoring case; one matching entry is enough.
    delivery = deliver(service_headers(**{"X-ASRS-Signature": header}))
    assert delivery.status == 204, header


def test_an_oversized_signature_header_is_refused_even_when_it_holds_a_valid_signature(deliver):
    valid = sign("conn-1", DEV_ACCESS_KEY)
    _refused(deliver(service_headers(**{"X-ASRS-Signature": ",".join([valid] * 20)})))


def test_an_oversized_connection_id_is_refused(deliver):
    connection_id = "c" * 257
    _refused(deliver(service_headers(connection_id=connection_id)))


def test_without_any_key_nothing_is_accepted_by_signature():
    assert not is_signed("conn-1", sign("conn-1", DEV_ACCESS_KEY), ())


def test_the_parser_reads_the_services_comma_separated_list():
    header = sign("c", "k1") + ", " + sign("c", "k2")
    assert parse_signatures(header) is not None
    assert len(parse_signatures(header)) == 2


def test_events_from_a_second_signalr_endpoint_are_accepted_with_its_own_key(deliver, upstream_env):
    from functions.core.facade import reset_facade

    second_key = "SECONDENDPOINTKEY0123456789abcdefghijklmnop"
    upstream_env.setenv("Azure__SignalR__Endpoints__west__primary",
                        f"Endpoint=http://127.0.0.1;Port=1;AccessKey={second_key};Version=1.0;")
    reset_facade()
    assert deliver(service_headers(keys=(second_key,))).status == 204
    assert deliver(service_headers(keys=(DEV_ACCESS_KEY,))).status == 204
    _refused(deliver(service_headers(keys=(WRONG_KEY,))))
