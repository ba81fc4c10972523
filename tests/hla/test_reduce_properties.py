"""Properties of reductions (hla-nomenclature.md §§11-12).

Idempotence (reducing a reduced typing changes nothing) holds, and is tested, for:

* default mode: G (a G name reduces to itself, an allele in no group stays itself), P (likewise), W (full names stay)
  and U2 (a 2-field name stays as it is);
* compatibility mode: W and U2. py-ard's G is not idempotent (``A*02:10`` → ``A*02:10:01G`` → ``A*02:10:01``: it
  strips the ``G`` and finds no group row for the 3-field key), nor is its P (``C*04:59Q`` → ``C*04:59P`` →
  rejected, the group's 2-field name is not an allele).

It does not hold for: lgx/lg (``A*11:403N`` → ``A*11:403``, which names no allele; in the default mode also a 2-field
name touching several G groups, ``C*02:02:01`` → ``C*02:02`` → ``C*02:02/C*02:10``; lg output ``…g`` is not valid
strict input), exon (``A*01:01:01:01`` → ``A*01:01:01``, a truncation that also covers ``A*01:01:01N``), S (an
antigen expands to every allele of its splits, whose serology is wider), 1F (a first field alone is not a typing),
small_g (its names are output only).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.hla import Nomenclature, parse_gl, write_gl
from graftwise.hla.reduce import REDUCTION_TYPES

_index = st.integers(min_value=0, max_value=41_432)

IDEMPOTENT = [(None, "G"), (None, "P"), (None, "W"), (None, "U2"), ("py-ard", "W"), ("py-ard", "U2")]


@pytest.mark.parametrize(("compat", "to"), IDEMPOTENT)
@settings(max_examples=60, deadline=None)
@given(i=_index)
def test_reduction_is_idempotent(nom: Nomenclature, compat: str | None, to: str, i: int) -> None:
    allele = nom.tables.alleles[i]
    once = nom.reduce(allele, to, compat).value  # type: ignore[arg-type]
    assert nom.reduce(once, to, compat).value == once  # type: ignore[arg-type]


def _truncate(name: str, fields: int) -> str:
    parts = name.split(":")
    return name if fields >= len(parts) else ":".join(parts[:fields])


@st.composite
def _genotypes(draw: st.DrawFn, nom: Nomenclature) -> str:
    """A random multilocus GL string of real alleles (some truncated) with every operator."""
    loci = []
    for _ in range(draw(st.integers(1, 3))):
        sides = []
        for _ in range(2):
            names = [nom.tables.alleles[draw(_index)] for _ in range(draw(st.integers(1, 3)))]
            names = [_truncate(n, draw(st.integers(2, 4))) for n in names]
            sides.append("/".join(names))
        loci.append(draw(st.sampled_from(["+", "~"])).join(sides))
    return "^".join(loci)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_reduced_gl_strings_are_well_formed_and_match_leafwise_reduction(
    nom: Nomenclature, data: st.DataObject
) -> None:
    gl = data.draw(_genotypes(nom))
    for compat in (None, "py-ard"):
        value = nom.reduce(gl, "lgx", compat).value  # type: ignore[arg-type]
        if value:
            assert write_gl(parse_gl(value)) == value
        leaves = {x for part in value.replace("^", "+").replace("~", "+").split("+") for x in part.split("/")}
        expected = {
            x
            for token in gl.replace("^", "+").replace("~", "+").replace("/", "+").split("+")
            for x in nom.reduce(token, "lgx", compat).value.split("/")  # type: ignore[arg-type]
        }
        assert leaves == expected


@pytest.mark.slow
@pytest.mark.parametrize("compat", [None, "py-ard"])
def test_every_allele_reduces_to_every_type(nom: Nomenclature, compat: str | None) -> None:
    """A plain loop over all 41,433 alleles of 3.58.0 and every reduction type, in each mode."""
    failures = []
    for to in REDUCTION_TYPES:
        for allele in nom.tables.alleles:
            try:
                nom.reduce(allele, to, compat)  # type: ignore[arg-type]
            except Exception as exc:  # collect, so one run lists every failure
                failures.append(f"{allele} → {to}: {exc}")
    assert failures == []
