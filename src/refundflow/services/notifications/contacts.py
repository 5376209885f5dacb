"""Phone numbers and email addresses as messages need them: validated and normalised.

Phone numbers are read with China as the default region (``13912345678`` and
``+86 139-1234-5678`` are the same number) and kept in E.164 (``+8613912345678``); only
mobile numbers can take an SMS. Emails are checked for form (not by DNS: a lookup would put
the network into every save) and kept in their normalised form.
"""

from __future__ import annotations

from refundflow.domain.errors import InvalidInputError

DEFAULT_REGION = "CN"

# phonenumbers and email-validator are imported where used: together they take about
# 0.3 s to import, which every process (each `refundflow serve`) would pay at start-up.


def normalise_phone(raw: str, field: str = "phone", *, mobile: bool = False) -> str:
    """``raw`` in E.164, or InvalidInputError saying what is wrong with it."""
    import phonenumbers

    try:
        number = phonenumbers.parse(raw.strip(), DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInputError(
            f"{raw!r} is not a valid phone number; give a mainland mobile number such as "
            "13912345678 or an international one with its country code (+852 …)",
            details={"field": field},
        )
    sms_types = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if mobile and phonenumbers.number_type(number) not in sms_types:
        raise InvalidInputError(
            f"{raw!r} is not a mobile number and cannot receive SMS", details={"field": field}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str, field: str = "email") -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(raw.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidInputError(
            f"{raw!r} is not a valid email address: {exc}", details={"field": field}
        ) from None


def sms_number(raw: str | None) -> str | None:
    """The E.164 mobile number, or None when ``raw`` is empty or cannot take an SMS."""
    if not raw:
        return None
    try:
        return normalise_phone(raw, mobile=True)
    except InvalidInputError:
        return None


def email_address(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalise_email(raw)
    except InvalidInputError:
        return None
