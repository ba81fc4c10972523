"""DRB3/4/5 consistency with DRB1 (hla-nomenclature.md §14).

DRB3, DRB4 and DRB5 are present only on some DR haplotypes: DRB1 first fields 03, 05, 06, 11, 12, 13, 14 carry DRB3
(DR52); 04, 07, 09 carry DRB4 (DR53); 02, 15, 16 carry DRB5 (DR51); any other (01, 08, 10, …) none. This is py-ard's
``dr_blender`` rule; its DRB1 families are the serological DR51/52/53 associations.
"""

from __future__ import annotations

from graftwise.errors import ValidationError
from graftwise.hla.errors import DRBXConsistencyError

_EXPECTED = {
    **dict.fromkeys(("03", "05", "06", "11", "12", "13", "14"), "DRB3"),
    **dict.fromkeys(("04", "07", "09"), "DRB4"),
    **dict.fromkeys(("02", "15", "16"), "DRB5"),
}


def expected_drbx(drb1_first_field: str) -> str | None:
    """The second DRB gene a DRB1 allele group carries, or None."""
    return _EXPECTED.get(drb1_first_field)


def blend_drbx(drb1: str, drb3: str = "", drb4: str = "", drb5: str = "") -> str:
    """The DRB3/4/5 genotype that is consistent with the DRB1 genotype ``drb1`` (``DRB1*03:01+DRB1*04:01``).

    Each of ``drb3``/``drb4``/``drb5`` is ``""`` (not typed), one typing, or a genotype ``X+Y``. A gene typed where the
    DRB1 genotype expects none raises :class:`DRBXConsistencyError` ("DRB4 where none expected"). When DRB1 expects a
    gene on one haplotype only, a heterozygous call of it is inconsistent ("DRB3 het where hom expected"); a
    homozygous call collapses to one value. Returns the ``+``-joined calls in DRB3, DRB4, DRB5 order, or ``""``.
    """
    copies = drb1.split("+")
    if len(copies) != 2 or not all("*" in c and ":" in c for c in copies):
        raise ValidationError(f"DRB1 genotype {drb1!r}: expected two typings joined by '+'", field="drb1")
    expected = [expected_drbx(c.split("*", 1)[1].split(":")[0]) for c in copies]
    out = []
    for gene, typed in (("DRB3", drb3), ("DRB4", drb4), ("DRB5", drb5)):
        if not typed:
            continue
        times = expected.count(gene)
        if times == 0:
            raise DRBXConsistencyError(f"{gene} where none expected", token=typed, code="unexpected_gene")
        calls = typed.split("+")
        if len(calls) == 2 and times == 1:
            if calls[0] != calls[1]:
                raise DRBXConsistencyError(f"{gene} het where hom expected", token=typed, code="unexpected_gene")
            out.append(calls[0])
        else:
            out.append(typed)
    return "+".join(out)
