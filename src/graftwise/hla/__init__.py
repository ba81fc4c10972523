"""HLA nomenclature: allele names, groups, serology, MACs, XX codes and GL strings of one IPD-IMGT/HLA release."""

from graftwise.hla.cwd import CWDStatus
from graftwise.hla.errors import (
    DeletedAlleleError,
    DRBXConsistencyError,
    GLSyntaxError,
    HLAError,
    InvalidAlleleError,
    InvalidGroupNameError,
    InvalidMACError,
    InvalidSerologyError,
    InvalidTypingError,
    InvalidXXError,
    ReleaseError,
    RenamedAlleleError,
    UnknownLocusError,
)
from graftwise.hla.gl import GL, GLLeaf, GLNode, GLStringCode, parse_gl, parse_glsc, write_gl
from graftwise.hla.names import Token, TokenKind, parse_token
from graftwise.hla.nomenclature import Nomenclature, TCEGroup, Typing
from graftwise.hla.reduce import REDUCTION_TYPES, Reduction

__all__ = [
    "GL",
    "REDUCTION_TYPES",
    "CWDStatus",
    "DRBXConsistencyError",
    "DeletedAlleleError",
    "GLLeaf",
    "GLNode",
    "GLStringCode",
    "GLSyntaxError",
    "HLAError",
    "InvalidAlleleError",
    "InvalidGroupNameError",
    "InvalidMACError",
    "InvalidSerologyError",
    "InvalidTypingError",
    "InvalidXXError",
    "Nomenclature",
    "Reduction",
    "ReleaseError",
    "RenamedAlleleError",
    "TCEGroup",
    "Token",
    "TokenKind",
    "Typing",
    "UnknownLocusError",
    "parse_gl",
    "parse_glsc",
    "parse_token",
    "write_gl",
]
