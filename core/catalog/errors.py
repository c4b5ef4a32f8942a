"""Codes for what catalog rules refuse."""

from enum import StrEnum


class CatalogError(StrEnum):
    PRODUCT_NOT_FOUND = "catalog.product_not_found"
    CATEGORY_NOT_FOUND = "catalog.category_not_found"
    SKU_TAKEN = "catalog.sku_taken"
    SKU_INVALID = "catalog.sku_invalid"
    NAME_REQUIRED = "catalog.name_required"
    PRICE_INVALID = "catalog.price_invalid"
    CATEGORY_TOO_DEEP = "catalog.category_too_deep"
    CATEGORY_NOT_EMPTY = "catalog.category_not_empty"
    CATEGORY_TAKEN = "catalog.category_taken"
    CATEGORY_NAME_INVALID = "catalog.category_name_invalid"
    ATTRIBUTES_INVALID = "catalog.attributes_invalid"
    IMAGE_INVALID = "catalog.image_invalid"
    ARCHIVED = "catalog.archived"
    IMPORT_FAILED = "catalog.import_failed"
    PAGE_INVALID = "catalog.page_invalid"
