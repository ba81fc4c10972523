"""Token interpretation against the real releases (hla-nomenclature.md §§2-9); expectations from the spec."""

from __future__ import annotations

import pytest

from graftwise.hla import (
    DeletedAlleleError,
    InvalidAlleleError,
    InvalidGroupNameError,
    InvalidMACError,
    InvalidSerologyError,
    InvalidTypingError,
    InvalidXXError,
    Nomenclature,
    ReleaseError,
    RenamedAlleleError,
    TokenKind,
    UnknownLocusError,
)
from graftwise.hla.names import fields_of


def test_release_tables_have_the_published_counts(nom: Nomenclature, nom344: Nomenclature) -> None:
    assert nom.release == "3.58.0"
    assert len(nom.tables.alleles) == 41433
    assert len(nom.tables.g_groups) == 707
    assert len(nom.tables.p_groups) == 1418
    assert len(nom.tables.retired) == 183
    assert nom344.release == "3.44.0"
    assert len(nom344.tables.alleles) == 30523
    assert len(nom344.tables.g_groups) == 538


def test_full_name_and_truncations(nom: Nomenclature) -> None:
    assert nom.alleles("A*01:01:01:01") == {"A*01:01:01:01"}
    two = nom.alleles("A*01:01")
    assert "A*01:01:01:01" in two
    assert "A*01:01:01:02N" in two
    assert "A*01:01:38L" in two
    assert all(a.startswith("A*01:01:") for a in two)
    assert nom.alleles("A*01:01:01") < two


def test_prefix_is_kept_out_of_the_meaning(nom: Nomenclature) -> None:
    assert nom.alleles("HLA-A*01:04N") == {"A*01:04:01:01N", "A*01:04:01:02N"}


def test_truncation_of_an_n_only_group_is_accepted_with_a_warning(nom: Nomenclature) -> None:
    typing = nom.typing("A*01:04")
    assert typing.alleles == {"A*01:04:01:01N", "A*01:04:01:02N"}
    assert typing.warnings
    assert "A*01:04N" in typing.warnings[0]


def test_short_null_means_only_the_suffixed_members(nom: Nomenclature) -> None:
    assert nom.alleles("DRB4*01:03N") == {"DRB4*01:03:01:02N", "DRB4*01:03:01:13N"}


def test_generic_mac_is_filtered_against_the_release(nom: Nomenclature) -> None:
    assert nom.alleles("A*01:AB") == nom.alleles("A*01:01") | nom.alleles("A*01:02")
    typing = nom.typing("C*04:AB")
    assert typing.alleles == nom.alleles("C*04:01")
    assert "C*04:02" in typing.warnings[0]


def test_allele_specific_mac_uses_the_most_frequent_first_field(nom: Nomenclature) -> None:
    assert nom.alleles("DPB1*04:FNW") == nom.alleles("DPB1*04:01") | nom.alleles("DPB1*20:01")
    with pytest.raises(InvalidMACError) as err:
        nom.typing("DPB1*20:FNW")
    assert err.value.code == "wrong_group_for_specific_code"


def test_mac_with_a_null_keeps_the_null_in_its_expansion(nom: Nomenclature) -> None:
    assert "A*01:04:01:01N" in nom.alleles("A*01:YAG")


@pytest.mark.parametrize(
    ("token", "error", "code"),
    [
        ("A*04:AB", InvalidMACError, "no_valid_expansion"),
        ("A*01:QQQQQ", InvalidMACError, "unknown_code"),
        ("A*99:XX", InvalidXXError, "no_alleles_in_group"),
        ("A*99:99", InvalidAlleleError, "not_in_release"),
        ("A*01:01:99:99", InvalidAlleleError, "not_in_release"),
        ("A*01", InvalidTypingError, "first_field_only"),
        ("DQA1*01:01:01:G", InvalidTypingError, "non_numeric_field"),
        ("A*01:1", InvalidTypingError, "non_numeric_field"),
        ("HLA-Z*01:01", UnknownLocusError, "unknown_locus"),
        ("A99", InvalidSerologyError, "unknown_antigen"),
        ("A*01:01:02G", InvalidGroupNameError, "unofficial_g"),
        ("A*01:01g", InvalidGroupNameError, "lowercase_g_in_strict"),
        ("A*2401", DeletedAlleleError, "deleted_no_successor"),
        ("A*01:34N", RenamedAlleleError, "renamed"),
        ("DQB1*0804", InvalidAlleleError, "not_in_release"),
    ],
)
def test_invalid_tokens_raise_typed_errors(nom: Nomenclature, token: str, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as err:
        nom.typing(token)
    assert err.value.code == code  # type: ignore[attr-defined]
    assert token.removeprefix("HLA-") in str(err.value) or token in str(err.value)


def test_renamed_name_is_followed_in_lenient_mode_and_suggested_in_strict(nom: Nomenclature) -> None:
    with pytest.raises(RenamedAlleleError) as err:
        nom.typing("A*02:01:08")
    assert err.value.suggestions == ["A*02:1040"]
    typing = nom.typing("A*02:01:08", lenient=True)
    assert typing.alleles == {"A*02:1040"}
    assert typing.renamed_from == "A*02:01:08"


def test_renames_across_allele_groups(nom: Nomenclature) -> None:
    assert nom.typing("A*23:113N", lenient=True).alleles == {"A*24:586N"}


def test_xx_codes_and_dna_broads(nom: Nomenclature) -> None:
    assert {fields_of(a, 2) for a in nom.alleles("A*43:XX")} == {"A*43:01", "A*43:02", "A*43:03"}
    assert "A*43:02N" in nom.alleles("A*43:XX")
    broad = nom.alleles("A*09:XX")
    assert broad == nom.alleles("A*23:XX") | nom.alleles("A*24:XX")
    assert not any(a.startswith("DQB1*06") for a in nom.alleles("DQB1*05:XX"))
    assert nom.typing("C*10:XX").warnings


def test_serology_expansion_follows_splits_and_associated(nom: Nomenclature) -> None:
    assert {nom.ard_name(a) for a in nom.alleles("A2403")} == {"A*24:03", "A*24:10", "A*24:23", "A*24:374"}
    assert {nom.ard_name(a) for a in nom.alleles("DR1403")} == {"DRB1*14:03"}
    assert nom.alleles("A9") >= nom.alleles("A23") | nom.alleles("A24") | nom.alleles("A2403")
    assert nom.typing("Bw4").alleles == frozenset()  # a valid antigen with no alleles


def test_v2_names(nom: Nomenclature) -> None:
    assert nom.alleles("A*0101") == nom.alleles("A*01:01")
    assert nom.typing("A*0105N", lenient=True).alleles == {"A*01:04:01:01N"}
    assert nom.typing("A*01AB").kind is TokenKind.V2
    assert nom.alleles("A*01AB") == nom.alleles("A*01:AB")


def test_group_names_as_input(nom: Nomenclature) -> None:
    assert nom.alleles("B*07:02:01G") == set(nom.tables.g_groups["B*07:02:01G"])
    assert "A*01:335" in nom.alleles("A*01:01P")


def test_ard_name_follows_official_g_names_and_ping(nom: Nomenclature) -> None:
    assert nom.ard_name("A*01:01:01:01") == "A*01:01"
    assert nom.ard_name("A*01:335") == "A*01:01"  # P-not-G
    assert nom.ard_name("A*74:21") == "A*02:65"  # ping changes the first field
    assert nom.ard_name("C*02:10:01:01") == "C*02:10"  # official name C*02:10:01G (py-ard: C*02:02)
    assert nom.ard_name("A*01:04:01:01N") == "A*01:01"
    assert nom.ard_name("A*01:11N") == "A*01:11N"


def test_small_g_groups(nom: Nomenclature) -> None:
    assert nom.small_g_of["DQB1*02:180:01"] == "DQB1*02:03g"
    assert nom.small_g_of["A*01:11N"] == "A*01:11N"
    assert nom.small_g_of["A*01:01:01:02N"] == "A*01:01g"
    every = [a for members in nom.small_g_groups.values() for a in members]
    assert len(every) == len(set(every))  # each allele in one group


def test_gl_validation(nom: Nomenclature) -> None:
    nom.validate("A*01:01+A*02:01^B*08:01+B*07:02")
    nom.validate("hla#3.58.0#HLA-A*01:01+HLA-A*02:01")
    with pytest.raises(ReleaseError):
        nom.validate("hla#3.44.0#A*01:01")
    problems = nom.problems("A*01:01+A*99:99^B*08:01+Bx")
    assert [(p.token, p.position) for p in problems] == [("A*99:99", 8), ("Bx", 24)]


def test_3_44_release_differs(nom344: Nomenclature) -> None:
    assert nom344.alleles("A*01:01:01:01") == {"A*01:01:01:01"}
    with pytest.raises(InvalidAlleleError):
        nom344.typing("A*02:1040")
