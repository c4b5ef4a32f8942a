"""Codes for what checkout rules refuse."""

from enum import StrEnum


class CheckoutError(StrEnum):
    NAME_INVALID = "checkout.name_invalid"
    ADDRESS_INVALID = "checkout.address_invalid"
    CITY_INVALID = "checkout.city_invalid"
    COUNTRY_INVALID = "checkout.country_invalid"
    POSTAL_CODE_INVALID = "checkout.postal_code_invalid"
    PHONE_INVALID = "checkout.phone_invalid"
    SHIPPING_METHOD_INVALID = "checkout.shipping_method_invalid"
