"""PNC and CRO identifiers: the check letters of DOMAIN.md."""

from forceprofiles.identifiers import (
    format_cro, format_pnc, is_valid_cro, is_valid_pnc, normalise_pnc, pnc_check_letter,
)


def test_published_examples_have_the_published_check_letters():
    assert format_pnc(2001, 171310) == "2001/0171310W"
    assert format_pnc(2008, 56560) == "2008/0056560Z"
    assert is_valid_pnc("2001/0171310W") and is_valid_pnc("2008/0056560Z")


def test_a_mistyped_digit_or_letter_is_caught():
    assert not is_valid_pnc("2001/0171311W")
    assert not is_valid_pnc("2001/0171310X")
    assert not is_valid_pnc("not a pnc")
    assert not is_valid_pnc(None)


def test_short_form_is_accepted_and_normalised():
    assert is_valid_pnc("01/171310W")
    assert normalise_pnc("01/171310W") == "2001/0171310W"
    assert normalise_pnc("98/1234567" + pnc_check_letter(98, 1234567)) == f"1998/1234567{pnc_check_letter(98, 1234567)}"


def test_cro_round_trip():
    value = format_cro(2008, 12345)
    assert value.startswith("012345/08") and is_valid_cro(value)
    assert not is_valid_cro(value[:-1] + ("A" if value[-1] != "A" else "B"))
