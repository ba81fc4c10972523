"""§2: interpreting one position for matching (P groups, nulls, kinds, serologies)."""

from __future__ import annotations

import pytest

from graftwise.errors import ValidationError
from graftwise.hla import HLAError
from graftwise.matching.typing import PositionKind, TypingInterpreter, normalise_locus_token, substitute_nulls


def test_rule1_molecular_expands_to_p_groups(interp: TypingInterpreter) -> None:
    t = interp.interpret("A", "A*01:01:01:01")
    assert t.pgroups == {"A*01:01P"}
    assert t.kind is PositionKind.SINGLE_ALLELE
    assert not t.is_null


def test_rule1_expressing_allele_without_p_group_is_its_own_group(interp: TypingInterpreter) -> None:
    assert "A*01:06" not in interp.nom.p_group_of
    assert interp.interpret("A", "A*01:06").pgroups == {"A*01:06"}


def test_rule2_nulls_inside_mac_and_xx_are_ignored(interp: TypingInterpreter) -> None:
    for text in ("A*01:XX", "A*01:01:01G", "A*01:01"):
        t = interp.interpret("A", text)
        assert any(a.endswith("N") for a in t.alleles), text  # the null is part of what the typing can mean …
        assert not t.is_null  # … but the typing is treated as expressing
        assert all(not a.endswith("N") for a in t.expressing)


def test_single_and_short_null_are_null(interp: TypingInterpreter) -> None:
    assert interp.interpret("A", "A*01:01:01:02N").is_null
    short = interp.interpret("A", "A*01:11N")
    assert short.is_null
    assert short.pgroups == frozenset()


def test_rule3_serology_expands_through_relations(interp: TypingInterpreter) -> None:
    # B*38:09 maps only to the broad B16; a B39 (split of B16) donor reaches it through the indirect broad (§4.5)
    b3809 = interp.interpret("B", "B*38:09")
    b39 = interp.interpret("B", "B39")
    assert b39.kind is PositionKind.SEROLOGY
    assert b3809.pgroups <= b39.pgroups
    assert b39.direct == {"B39"}
    assert "B16" in b39.indirect
    assert ("B16", "indirect") in b39.serology_path


def test_rule3_split_does_not_reach_its_sibling_split(interp: TypingInterpreter) -> None:
    a23 = interp.interpret("A", "A23")
    a24 = interp.interpret("A", "A*24:02")
    assert not a23.pgroups & a24.pgroups


def test_rule4_new_has_no_p_groups(interp: TypingInterpreter) -> None:
    t = interp.interpret("A", "NEW")
    assert t.is_new
    assert t.pgroups == frozenset()


def test_kinds(interp: TypingInterpreter) -> None:
    assert interp.interpret("A", "").kind is PositionKind.UNTYPED
    assert interp.interpret("A", "A*01:01").kind is PositionKind.ALLELE_NAME
    for text in ("A*01:AB", "A*01:XX", "A*01:01P", "A*01:01:01G", "A*01:01g", "A*01:01/A*01:02"):
        assert interp.interpret("A", text).kind is PositionKind.MULTIPLE, text


def test_allele_string_with_locusless_elements(interp: TypingInterpreter) -> None:
    assert interp.interpret("A", "A*01:01/01:02").alleles == interp.interpret("A", "A*01:01/A*01:02").alleles


def test_typing_of_another_locus_is_rejected(interp: TypingInterpreter) -> None:
    with pytest.raises(ValidationError, match="locus B"):
        interp.interpret("A", "B*07:02")
    with pytest.raises(ValidationError, match="not a serological antigen of locus A"):
        interp.interpret("A", "B7")


def test_invalid_typings_raise(interp: TypingInterpreter) -> None:
    for text in ("A*99:99", "A*01:ZZZZZ", "A999", "A*01:01:01:01g"):
        with pytest.raises(HLAError):
            interp.interpret("A", text)


def test_renamed_names_only_for_donors(interp: TypingInterpreter) -> None:
    renamed = next(
        name for name, r in interp.nom.tables.retired.items() if name.startswith("A*") and r.successor and ":" in name
    )
    with pytest.raises(HLAError):
        interp.interpret("A", renamed)
    assert interp.interpret("A", renamed, lenient=True).alleles


def test_null_substitution(interp: TypingInterpreter) -> None:
    x = interp.interpret("A", "A*03:01")
    n = interp.interpret("A", "A*01:11N")
    u = interp.interpret("A", "")
    assert substitute_nulls((x, n)) == (x, x)
    assert substitute_nulls((n, x)) == (x, x)
    assert substitute_nulls((n, n)) == (n, n)
    assert substitute_nulls((n, u)) == (n, u)


def test_locus_prefix_is_optional() -> None:
    assert normalise_locus_token("A", "01:01") == "A*01:01"
    assert normalise_locus_token("A", "A2") == "A2"
    assert normalise_locus_token("A", "A*01:01") == "A*01:01"
