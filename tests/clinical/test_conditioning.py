"""Conditioning intensity (clinical spec §8.4): every threshold on both sides, NMA combinations, the two definitions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graftwise.clinical.conditioning import CALCULATOR, ConditioningResult
from graftwise.errors import ValidationError

LEVEL = {"NMA": 0, "unclassified": 0, "RIC": 1, "MAC": 2}


def tbi(cgy: float, fractions: int = 1) -> dict[str, Any]:
    return {"agent": "tbi", "total_dose": cgy, "unit": "cGy", "fractions": fractions}


def bu(mg_per_kg: float, route: str = "oral") -> dict[str, Any]:
    return {"agent": "busulfan", "total_dose": mg_per_kg, "unit": "mg/kg", "route": route}


def mel(mg_per_m2: float) -> dict[str, Any]:
    return {"agent": "melphalan", "total_dose": mg_per_m2, "unit": "mg/m2"}


def tt(mg_per_kg: float) -> dict[str, Any]:
    return {"agent": "thiotepa", "total_dose": mg_per_kg, "unit": "mg/kg"}


def other(*names: str) -> list[dict[str, Any]]:
    return [{"agent": name} for name in names]


def run(agents: list[dict[str, Any]]) -> ConditioningResult:
    return CALCULATOR.run({"agents": agents})


@pytest.mark.parametrize(
    ("agents", "intensity"),
    [
        ([tbi(500, 1), *other("cyclophosphamide")], "MAC"),
        ([tbi(499, 1), *other("fludarabine")], "RIC"),
        ([tbi(800, 4), *other("cyclophosphamide")], "MAC"),
        ([tbi(799, 4), *other("cyclophosphamide")], "RIC"),
        ([tbi(201, 1), *other("fludarabine")], "RIC"),
        ([tbi(200, 1), *other("fludarabine")], "NMA"),
        ([tbi(200, 1)], "NMA"),
        ([bu(8.0), *other("fludarabine")], "RIC"),
        ([bu(8.01), *other("cyclophosphamide")], "MAC"),
        ([bu(6.4, "iv"), *other("fludarabine")], "RIC"),
        ([bu(6.41, "iv"), *other("fludarabine")], "MAC"),
        ([mel(140), *other("fludarabine")], "RIC"),
        ([mel(140.1), *other("fludarabine")], "MAC"),
        ([tt(9.99), *other("fludarabine")], "RIC"),
        ([tt(10), *other("fludarabine")], "MAC"),
    ],
)
def test_bacigalupo_thresholds_both_sides(agents: list[dict[str, Any]], intensity: str) -> None:
    assert run(agents).intensity == intensity


@pytest.mark.parametrize(
    ("names", "combination"),
    [
        (("fludarabine", "cyclophosphamide"), "Flu + Cy ± ATG"),
        (("fludarabine", "cyclophosphamide", "atg"), "Flu + Cy ± ATG"),
        (("fludarabine", "cytarabine", "idarubicin"), "Flu + AraC + Ida"),
        (("cladribine", "cytarabine"), "cladribine + AraC"),
        (("tli", "atg"), "TLI + ATG"),
    ],
)
def test_nma_combinations(names: tuple[str, ...], combination: str) -> None:
    result = run(other(*names))
    assert (result.intensity, result.nma_combination) == ("NMA", combination)


@pytest.mark.parametrize(
    "agents",
    [
        other("fludarabine", "cyclophosphamide", "alemtuzumab"),
        [tbi(200), *other("fludarabine", "cyclophosphamide")],
        other("tli"),
    ],
)
def test_outside_every_row_is_unclassified(agents: list[dict[str, Any]]) -> None:
    result = run(agents)
    assert (result.intensity, result.nma_combination) == ("unclassified", None)


@pytest.mark.parametrize(
    ("agents", "workshop", "disagrees"),
    [
        ([mel(140), *other("fludarabine")], "not_ric", True),  # RIC by Bacigalupo, not < 140 in the workshop
        ([mel(139.9), *other("fludarabine")], "ric", False),
        ([bu(8.5), *other("fludarabine")], "ric", True),  # MAC by Bacigalupo, < 9 in the workshop
        ([bu(9.0), *other("cyclophosphamide")], "not_ric", False),
        ([bu(7.19, "iv"), *other("fludarabine")], "ric", True),
        ([bu(7.2, "iv"), *other("fludarabine")], "not_ric", False),
        ([tbi(499), *other("fludarabine")], "ric", False),
        ([tbi(500), *other("fludarabine")], "not_ric", False),
        (other("fludarabine", "cyclophosphamide"), "not_applicable", False),
    ],
)
def test_workshop_thresholds_and_disagreements(agents: list[dict[str, Any]], workshop: str, disagrees: bool) -> None:
    result = run(agents)
    assert result.workshop_ric == workshop
    assert (
        any(w.code == "definitions_differ" and "definitions differ" in w.message for w in result.warnings) == disagrees
    )


def test_iv_busulfan_workshop_bound_is_flagged_as_conversion() -> None:
    assert "a conversion" in run([bu(6.4, "iv"), *other("fludarabine")]).agents[0].note


def test_beam_warning() -> None:
    result = run([mel(140), *other("carmustine", "etoposide", "cytarabine")])
    assert result.intensity == "RIC"
    assert any(w.code == "beam_ric_disputed" and "BEAM" in w.message for w in result.warnings)


@pytest.mark.parametrize(
    ("agents", "field"),
    [
        ([{"agent": "tbi", "total_dose": 200, "unit": "cGy"}], "agents.0.fractions"),
        ([{"agent": "busulfan", "total_dose": 8, "unit": "mg/kg"}], "agents.0.route"),
        ([{"agent": "melphalan", "total_dose": 140, "unit": "mg/kg"}], "agents.0.unit"),
        ([{"agent": "melphalan", "unit": "mg/m2"}], "agents.0.total_dose"),
        ([{"agent": "fludarabine", "fractions": 2}], "agents.0.fractions"),
        ([{"agent": "fludarabine", "route": "iv"}], "agents.0.route"),
        ([mel(100), mel(40)], "agents.1.agent"),
        ([{"agent": "unobtainium"}], "agents.0.agent"),
        ([mel(-1)], "agents.0.total_dose"),
        ([tbi(200, 0)], "agents.0.fractions"),
        ([], "agents"),
    ],
)
def test_impossible_input_names_the_field(agents: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        run(agents)
    assert info.value.field == field


@settings(max_examples=80, deadline=None)
@given(
    kind=st.sampled_from(["tbi1", "tbi4", "bu_oral", "bu_iv", "mel", "tt"]),
    dose=st.floats(min_value=0.1, max_value=1500),
    more=st.floats(min_value=0, max_value=500),
    partner=st.sampled_from([(), ("fludarabine",), ("cyclophosphamide",)]),
)
def test_raising_a_dose_never_lowers_intensity(kind: str, dose: float, more: float, partner: tuple[str, ...]) -> None:
    make = {
        "tbi1": lambda d: tbi(d, 1),
        "tbi4": lambda d: tbi(d, 4),
        "bu_oral": lambda d: bu(d, "oral"),
        "bu_iv": lambda d: bu(d, "iv"),
        "mel": mel,
        "tt": tt,
    }[kind]
    before = run([make(dose), *other(*partner)]).intensity
    after = run([make(dose + more), *other(*partner)]).intensity
    assert LEVEL[after] >= LEVEL[before]
