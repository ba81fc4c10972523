"""Fixtures of the matching tests: one interpreter and scorer per session (release 3.58.0)."""

from __future__ import annotations

import pytest

from graftwise.hla import Nomenclature
from graftwise.matching.score import PairScorer
from graftwise.matching.typing import TypingInterpreter


@pytest.fixture(scope="session")
def interp(nom: Nomenclature) -> TypingInterpreter:
    return TypingInterpreter(nom)


@pytest.fixture(scope="session")
def scorer(interp: TypingInterpreter) -> PairScorer:
    return PairScorer(interp)
