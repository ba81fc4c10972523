"""Donor typing checks at one position (matching.md §10.1 HLA rules, §10.2 item 3)."""

from __future__ import annotations

import pytest

from graftwise.errors import ValidationError
from graftwise.hla import Nomenclature
from graftwise.registry.generator import parse_shares
from graftwise.registry.typing_check import TypingValidator, normalise_dna, normalise_serology


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01:01", "A*01:01"),
        ("*01:01", "A*01:01"),
        ("HLA-A*01:01", "A*01:01"),
        ("A*01:01", "A*01:01"),
        ("01:01/01:02", "A*01:01/A*01:02"),
        ("01:AB", "A*01:AB"),
        ("A31", "A31"),
    ],
)
def test_normalise_dna(raw: str, expected: str) -> None:
    assert normalise_dna("A", raw) == expected


@pytest.mark.parametrize(
    ("locus", "raw", "expected"),
    [("A", "2", "A2"), ("C", "10", "Cw10"), ("DRB1", "15", "DR15"), ("DQB1", "6", "DQ6"), ("B", "B44", "B44")],
)
def test_normalise_serology(locus: str, raw: str, expected: str) -> None:
    assert normalise_serology(locus, raw) == expected


@pytest.mark.parametrize(
    ("locus", "text"),
    [
        ("A", "A*01:01"),
        ("A", "A*01:01:01G"),
        ("A", "A*01:01P"),
        ("A", "A*01:AB"),
        ("A", "A*01:XX"),
        ("A", "A*01:01/A*01:02"),
        ("A", "A2"),
        ("A", "A9"),
        ("C", "Cw10"),
        ("DRB1", "DR15"),
        ("DPB1", "DPB1*04:01"),
    ],
)
def test_valid_typings(nom: Nomenclature, locus: str, text: str) -> None:
    assert TypingValidator(nom).check(locus, text).ok


@pytest.mark.parametrize(
    ("locus", "text", "code"),
    [
        ("A", "B*07:02", "wrong_locus"),
        ("A", "B7", "wrong_locus"),
        ("DRB1", "DR52", "wrong_locus"),
        ("A", "A*01:9999", "not_in_release"),
        ("A", "A*01:01+A*02:01", "not_one_position"),
        ("A", "A*01:01~B*08:01", "not_one_position"),
        ("A", "A*01:ZZZZZ", "unknown_code"),
        ("A", "A999", "unknown_antigen"),
        ("A", "A*01", "first_field_only"),
    ],
)
def test_invalid_typings(nom: Nomenclature, locus: str, text: str, code: str) -> None:
    verdict = TypingValidator(nom).check(locus, text)
    assert not verdict.ok
    assert verdict.errors[0][0] == code


def test_renamed_allele_is_followed_with_a_warning(nom: Nomenclature) -> None:
    verdict = TypingValidator(nom).check("C", "C*15:20")
    assert verdict.ok
    assert any("renamed" in w for w in verdict.warnings)


def test_checks_are_cached(nom: Nomenclature) -> None:
    validator = TypingValidator(nom)
    assert validator.check("A", "A*01:AB") is validator.check("A", "A*01:AB")


def test_share_parsing() -> None:
    assert parse_shares("EUR=62,API=38", "populations") == {"EUR": 0.62, "API": 0.38}
    assert parse_shares("9991=0.5,9992=0.5", "registries") == {"9991": 0.5, "9992": 0.5}


@pytest.mark.parametrize("text", ["EUR", "EUR=x", "EUR=0.5,API"])
def test_bad_shares_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="CODE=share"):
        parse_shares(text, "populations")
