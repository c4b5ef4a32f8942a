"""Address fields, each checked as it is typed, with a message that says exactly what is
wrong. Countries come from CLDR (babel), phone numbers from libphonenumber; postal
codes are checked where a country's format is known.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

import phonenumbers
from babel import Locale

from core.checkout.errors import CheckoutError
from core.errors import InvalidInput

# Postal code formats for the countries a shop in Europe or North America mostly ships to.
POSTAL_CODES: dict[str, tuple[str, str]] = {
    "AT": (r"\d{4}", "4 digits, like 1010"),
    "BE": (r"\d{4}", "4 digits, like 1000"),
    "CH": (r"\d{4}", "4 digits, like 8001"),
    "DE": (r"\d{5}", "5 digits, like 10115"),
    "DK": (r"\d{4}", "4 digits, like 1050"),
    "ES": (r"\d{5}", "5 digits, like 28001"),
    "FI": (r"\d{5}", "5 digits, like 00100"),
    "FR": (r"\d{5}", "5 digits, like 75001"),
    "IT": (r"\d{5}", "5 digits, like 00118"),
    "NL": (r"\d{4} ?[A-Z]{2}", "4 digits and 2 letters, like 1012 AB"),
    "PL": (r"\d{2}-\d{3}", "like 00-950"),
    "PT": (r"\d{4}-\d{3}", "like 1000-001"),
    "SE": (r"\d{3} ?\d{2}", "5 digits, like 114 55"),
    "IE": (r"[A-Z]\d[\dW] ?[A-Z\d]{4}", "an Eircode, like D02 X285"),
    "GB": (r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "like SW1A 1AA"),
    "US": (r"\d{5}(-\d{4})?", "a ZIP code, like 94105 or 94105-1234"),
    "CA": (r"[A-Z]\d[A-Z] ?\d[A-Z]\d", "like K1A 0B1"),
    "AU": (r"\d{4}", "4 digits, like 2000"),
}


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str          # ISO 3166 alpha-2
    phone: str = ""       # E.164
    line2: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Address:
        return cls(**{k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__})

    def lines(self, phone: bool = True) -> list[str]:
        """How it is printed on a receipt."""
        place = f"{self.postal_code} {self.city}".strip()
        return [part for part in (self.name, self.line1, self.line2, place,
                                  country_name(self.country), self.phone if phone else "")
                if part]


def _text(value: str, what: str, code: CheckoutError, minimum: int, maximum: int) -> str:
    text = " ".join(value.split())
    if len(text) < minimum:
        raise InvalidInput(code, f"That {what} looks too short.")
    if len(text) > maximum:
        raise InvalidInput(code, f"That {what} is too long (at most {maximum} characters).")
    if not any(ch.isalnum() for ch in text):
        raise InvalidInput(code, f"That doesn't look like a {what}.")
    return text


def parse_name(value: str) -> str:
    return _text(value, "name", CheckoutError.NAME_INVALID, 2, 100)


def parse_line(value: str) -> str:
    text = _text(value, "street address", CheckoutError.ADDRESS_INVALID, 4, 120)
    if not any(ch.isalpha() for ch in text):
        raise InvalidInput(CheckoutError.ADDRESS_INVALID,
                           "A street address needs a street name, like “12 Rue de Rivoli”.")
    return text


def parse_city(value: str) -> str:
    return _text(value, "town or city", CheckoutError.CITY_INVALID, 2, 80)


@cache
def _countries() -> dict[str, str]:
    """Every name and code people type for a country -> its ISO code."""
    territories = Locale("en").territories
    names: dict[str, str] = {}
    for code, name in territories.items():
        if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO"):
            names[name.lower()] = code
            names[code.lower()] = code
    names.update({"uk": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                  "usa": "US", "america": "US", "holland": "NL", "the netherlands": "NL"})
    return names


def country_name(code: str) -> str:
    return str(Locale("en").territories.get(code, code))


def parse_country(value: str) -> str:
    key = " ".join(value.lower().replace(".", "").split())
    code = _countries().get(key)
    if code is None:
        raise InvalidInput(CheckoutError.COUNTRY_INVALID,
                           f"I don't know the country “{value.strip()[:40]}”. Please type its "
                           "name in English, like “France”, or its code, like FR.")
    return code


def parse_postal_code(value: str, country: str) -> str:
    text = " ".join(value.upper().split())
    if not text or len(text) > 12:
        raise InvalidInput(CheckoutError.POSTAL_CODE_INVALID, "Please type a postal code.")
    rule = POSTAL_CODES.get(country)
    if rule and not re.fullmatch(rule[0], text):
        raise InvalidInput(CheckoutError.POSTAL_CODE_INVALID,
                           f"“{text}” isn't a postal code in {country_name(country)}: it should "
                           f"be {rule[1]}.")
    if not rule and not re.fullmatch(r"[A-Z0-9][A-Z0-9 -]{1,11}", text):
        raise InvalidInput(CheckoutError.POSTAL_CODE_INVALID,
                           "A postal code has only letters, digits, spaces and dashes.")
    return text


def parse_phone(value: str, country: str) -> str:
    """E.164; a national number is read in the shipping country."""
    try:
        number = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        example = phonenumbers.example_number(country) if country else None
        hint = (f", like {phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)}"  # noqa: E501
                if example else "")
        raise InvalidInput(CheckoutError.PHONE_INVALID,
                           f"That phone number doesn't look right for {country_name(country)}"
                           f"{hint}. The courier uses it only if they can't find you.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
