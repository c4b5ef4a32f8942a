from decimal import Decimal

import pytest

from core.money import Money, format_amount, parse_amount, to_decimal_text


def test_prices_typed_as_text_become_exact_minor_units():
    assert parse_amount("12.50", "EUR") == 1250
    assert parse_amount("0.1", "EUR") == 10
    assert parse_amount("1500", "JPY") == 1500
    assert parse_amount("1.234", "KWD") == 1234
    assert parse_amount(Decimal("19.99"), "USD") == 1999


@pytest.mark.parametrize("bad", ["12.505", "-1", "abc", "", "NaN", "Infinity", "1e400x"])
def test_amounts_that_cannot_be_money_are_refused(bad):
    with pytest.raises(ValueError):
        parse_amount(bad, "EUR")


def test_floats_are_refused_outright():
    with pytest.raises(ValueError, match="not floats"):
        parse_amount(12.5, "EUR")  # type: ignore[arg-type]


def test_unknown_currency_is_refused():
    with pytest.raises(ValueError, match="unknown currency"):
        parse_amount("1.00", "XXQ")


def test_money_reads_naturally_to_a_shopper():
    assert format_amount(1250, "EUR") == "€12.50"
    assert format_amount(1500, "JPY") == "¥1,500"
    assert str(Money(999, "USD")) == "$9.99"
    assert to_decimal_text(1250, "EUR") == "12.50"


def test_money_of_different_currencies_does_not_add_up():
    assert Money(100, "EUR") + Money(250, "EUR") == Money(350, "EUR")
    assert Money(125, "EUR") * 3 == Money(375, "EUR")
    with pytest.raises(ValueError):
        Money(100, "EUR") + Money(100, "USD")
