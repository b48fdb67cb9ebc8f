"""The Functions extension's upstream vectors (tests/contracts/data/functions-extension-upstream.json),
run through the facade's own receiver code: the signature verifier, the claims and the query readers."""

from __future__ import annotations

import pytest

from contracts.contract_data import load_functions_extension
from functions.upstream.events import parse_claims
from functions.upstream.signature import is_signed, sign

FACTS = load_functions_extension()
SIGNATURES = FACTS["signature_vectors"]
WRONG_KEYS = ("3f2c1d0e-9b8a-4c7d-8e6f-5a4b3c2d1e0f",)  # a random GUID, as the upstream test's wrongAccessKeys


def _keys(description: str) -> tuple[str, ...]:
    return tuple(SIGNATURES["access_keys"]) if description == "both keys" else WRONG_KEYS


@pytest.mark.parametrize("case", SIGNATURES["cases"], ids=lambda case: f"{case['access_keys']}-{case['expected']}")
def test_the_extensions_signature_cases(case):
    assert is_signed(SIGNATURES["connection_id"], case["signature_header"], _keys(case["access_keys"])) \
        is case["expected"]


@pytest.mark.parametrize(("key", "expected"), SIGNATURES["signature_for_key"].items())
def test_each_key_signs_as_the_extension_computes(key, expected):
    assert sign(SIGNATURES["connection_id"], key).lower() == expected.lower()
    # and one entry of the two the service sends is enough, with either key alone
    header = ",".join(SIGNATURES["signatures"])
    assert is_signed(SIGNATURES["connection_id"], header, (key,))


@pytest.mark.parametrize("case", FACTS["claims_vectors"]["cases"], ids=lambda case: case["header"])
def test_the_extensions_claims_cases(case):
    claims = parse_claims(case["header"])
    first_of_each: dict[str, str] = {}
    for claim in claims:  # the extension's dictionary: the first value of a type wins
        first_of_each.setdefault(claim["type"], claim["value"])
    assert first_of_each == case["expected"]
