"""Donor registries: records, import, the embedded store, the search arrays and the synthetic generator."""

from graftwise.registry.arrays import RegistryArrays, RegistryFormatError, TruthArrays
from graftwise.registry.generator import GeneratorConfig, ResolutionMix
from graftwise.registry.records import DonorRecord, DonorType, Serostatus, Sex, Status
from graftwise.registry.registry import Registry, RegistryStats

__all__ = [
    "DonorRecord",
    "DonorType",
    "GeneratorConfig",
    "Registry",
    "RegistryArrays",
    "RegistryFormatError",
    "RegistryStats",
    "ResolutionMix",
    "Serostatus",
    "Sex",
    "Status",
    "TruthArrays",
]
