"""Police identifiers: PNC IDs and CRO numbers, with their check letters.

A PNC ID (``YYYY/NNNNNNNC``) and a CRO number (``NNNNNN/YYC``) carry a check letter computed
from the digits, so a mistyped identifier can be caught cheaply before it is trusted as
evidence that two records are the same person. Both the synthetic world (which must create
valid and, sometimes, mistyped identifiers) and validation (which must recognise them) use
this module.
"""

from __future__ import annotations

import re

CHECK_ALPHABET = "ZABCDEFGHJKLMNPQRTUVWXY"

_PNC_LONG = re.compile(r"^(\d{4})/(\d{7})([A-Z])$")
_PNC_SHORT = re.compile(r"^(\d{2})/(\d{1,7})([A-Z])$")
_CRO = re.compile(r"^(\d{1,6})/(\d{2})([A-Z])$")


def pnc_check_letter(year: int, serial: int) -> str:
    """The check letter of a PNC ID: the alphabet at int(YY + serial as 7 digits) mod 23."""
    return CHECK_ALPHABET[int(f"{year % 100:02d}{serial:07d}") % 23]


def format_pnc(year: int, serial: int) -> str:
    """A PNC ID in its long form, e.g. ``2001/0171310W``."""
    return f"{year:04d}/{serial:07d}{pnc_check_letter(year, serial)}"


def is_valid_pnc(value: str | None) -> bool:
    """True when ``value`` is a well-formed PNC ID (long or short form) with the right check letter."""
    if not value:
        return False
    text = value.strip().upper()
    match = _PNC_LONG.match(text) or _PNC_SHORT.match(text)
    if not match:
        return False
    year_text, serial_text, letter = match.groups()
    return pnc_check_letter(int(year_text[-2:]), int(serial_text)) == letter


def normalise_pnc(value: str | None) -> str | None:
    """The long form of a valid PNC ID (short forms assume 19YY for YY > 30, else 20YY); None if invalid."""
    if not is_valid_pnc(value):
        return None
    text = value.strip().upper()  # type: ignore[union-attr]
    long_match = _PNC_LONG.match(text)
    if long_match:
        return text
    year_text, serial_text, letter = _PNC_SHORT.match(text).groups()  # type: ignore[union-attr]
    year = int(year_text)
    century = 1900 if year > 30 else 2000
    return f"{century + year:04d}/{int(serial_text):07d}{letter}"


def cro_check_letter(year: int, serial: int) -> str:
    """The check letter of a CRO number: the alphabet at int(YY + serial as 6 digits) mod 23."""
    return CHECK_ALPHABET[int(f"{year % 100:02d}{serial:06d}") % 23]


def format_cro(year: int, serial: int) -> str:
    """A CRO number, e.g. ``012345/08K``."""
    return f"{serial:06d}/{year % 100:02d}{cro_check_letter(year, serial)}"


def is_valid_cro(value: str | None) -> bool:
    """True when ``value`` is a well-formed CRO number with the right check letter."""
    if not value:
        return False
    match = _CRO.match(value.strip().upper())
    if not match:
        return False
    serial_text, year_text, letter = match.groups()
    return cro_check_letter(int(year_text), int(serial_text)) == letter
