"""Checkout's rules: address fields, shipping prices, tax in integers, sealed data."""

from __future__ import annotations

import pytest

from core.checkout import addresses as fields
from core.checkout import shipping
from core.crypto import Vault
from core.errors import InvalidInput


@pytest.mark.parametrize(("country", "typed", "stored"), [
    ("FR", "75001", "75001"), ("NL", "1012 ab", "1012 AB"), ("GB", "sw1a 1aa", "SW1A 1AA"),
    ("US", "94105-1234", "94105-1234"), ("CA", "K1A 0B1", "K1A 0B1"), ("JP", "100-0001",
                                                                        "100-0001")])
def test_postal_codes_follow_the_country(country, typed, stored):
    assert fields.parse_postal_code(typed, country) == stored


@pytest.mark.parametrize(("country", "typed", "hint"), [
    ("DE", "1011", "5 digits"), ("NL", "1012", "4 digits and 2 letters"),
    ("US", "ABCDE", "ZIP code")])
def test_a_wrong_postal_code_says_what_the_country_expects(country, typed, hint):
    with pytest.raises(InvalidInput, match=hint):
        fields.parse_postal_code(typed, country)


def test_countries_phones_and_names():
    assert [fields.parse_country(t) for t in ("France", "fr", "United Kingdom", "UK", "USA")] \
        == ["FR", "FR", "GB", "GB", "US"]
    with pytest.raises(InvalidInput, match="don't know the country"):
        fields.parse_country("Atlantis")
    assert fields.parse_phone("06 12 34 56 78", "FR") == "+33612345678"
    assert fields.parse_phone("+44 20 7946 0958", "FR") == "+442079460958"
    with pytest.raises(InvalidInput, match="doesn't look right for France"):
        fields.parse_phone("12345", "FR")
    with pytest.raises(InvalidInput):
        fields.parse_name("x")
    with pytest.raises(InvalidInput, match="street name"):
        fields.parse_line("12345")


def test_shipping_is_free_from_the_threshold_and_tax_rounds_half_up_in_integers():
    assert shipping.method("standard", 4999).price_minor == 490
    assert shipping.method("standard", 5000).price_minor == 0
    assert shipping.method("express", 9999).price_minor == 1290
    with pytest.raises(InvalidInput):
        shipping.method("teleport", 100)
    assert shipping.tax_minor(1000, 825) == 83      # 82.5 rounds up
    assert shipping.tax_minor(999, 2000) == 200     # 199.8
    totals = shipping.totals(2500, shipping.method("standard", 2500), 2000, "EUR")
    assert (totals.shipping_minor, totals.tax_minor, totals.total_minor) == (490, 598, 3588)


def test_sealed_data_reads_back_only_with_the_same_key():
    vault = Vault("k" * 40)
    token = vault.seal({"phone": "+33612345678"})
    assert "+336" not in token and vault.open(token) == {"phone": "+33612345678"}
    with pytest.raises(ValueError):
        Vault("other" * 10).open(token)
