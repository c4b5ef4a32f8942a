"""Codes for what account rules refuse."""

from enum import StrEnum


class AccountError(StrEnum):
    EMAIL_INVALID = "account.email_invalid"
    EMAIL_TAKEN = "account.email_taken"
    PASSWORD_WEAK = "account.password_weak"
    BAD_CREDENTIALS = "account.bad_credentials"
    DISABLED = "account.disabled"
    NOT_FOUND = "account.not_found"
    TOKEN_INVALID = "account.token_invalid"
    TOKEN_EXPIRED = "account.token_expired"
    TOKEN_USED = "account.token_used"
    IDENTITY_LINKED_ELSEWHERE = "account.identity_linked_elsewhere"
    ROLE_INVALID = "account.role_invalid"
    LINK_CODE_INVALID = "account.link_code_invalid"
    LINK_CODE_EXPIRED = "account.link_code_expired"
    LINK_TOO_MANY_CODES = "account.link_too_many_codes"
    STAFF_NOT_LINKABLE = "account.staff_not_linkable"
    TOO_MANY_ATTEMPTS = "account.too_many_attempts"
    NOT_STAFF = "account.not_staff"
    TOTP_INVALID = "account.totp_invalid"
    LOCKED = "account.locked"
    NOT_LOCKED = "account.not_locked"
