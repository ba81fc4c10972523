"""GL String: parse into a typed tree and write it back (hla-nomenclature.md §11; Milius et al., Tissue Antigens
2013;82:106, doi:10.1111/tan.12150), and the GL String Code ``hla#<release>#<gl>`` (Mack et al., HLA 2023;102:501).

Operators, loosest first: ``^`` (multilocus unphased genotype), ``|`` (genotype list), ``+`` (genotype),
``~`` (haplotype), ``/`` (allele list). There are no parentheses, so parsing splits on the loosest operator first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from graftwise.hla.errors import GLSyntaxError

Operator = Literal["^", "|", "+", "~", "/"]
OPERATORS: tuple[Operator, ...] = ("^", "|", "+", "~", "/")
"""Loosest to tightest binding."""

_ILLEGAL = re.compile(r"[^A-Za-z0-9*:\-_^|+~/]")


@dataclass(frozen=True)
class GLLeaf:
    """One typing token and its 0-based character position in the GL string."""

    token: str
    position: int = 0


@dataclass(frozen=True)
class GLNode:
    """An operator applied to two or more operands."""

    op: Operator
    children: tuple[GL, ...]


GL = GLLeaf | GLNode


def parse_gl(text: str) -> GL:
    """Parse a GL string. Raises :class:`GLSyntaxError` naming the position of an empty token, a dangling or
    doubled operator, an illegal character, or the GL String 1.1 ``?`` operator (not supported yet)."""
    if "?" in text:
        pos = text.index("?")
        raise GLSyntaxError(
            "the GL String 1.1 '?' operator is not supported", token=text, position=pos, code="unsupported_1_1_operator"
        )
    if m := _ILLEGAL.search(text):
        raise GLSyntaxError(
            f"illegal character {m.group()!r}", token=text, position=m.start(), code="illegal_character"
        )
    if not text:
        raise GLSyntaxError("empty GL string", token=text, position=0, code="empty_token")
    return _parse(text, 0, 0, text)


def _parse(text: str, offset: int, level: int, whole: str) -> GL:
    if level == len(OPERATORS):
        return GLLeaf(text, offset)
    op = OPERATORS[level]
    if op not in text:
        return _parse(text, offset, level + 1, whole)
    parts = text.split(op)
    children: list[GL] = []
    pos = offset
    for i, part in enumerate(parts):
        if not part:
            code = "dangling_operator" if i in (0, len(parts) - 1) else "double_operator"
            at = pos if i < len(parts) - 1 else pos - 1
            raise GLSyntaxError(f"operator {op!r} needs a typing on both sides", token=whole, position=at, code=code)
        children.append(_parse(part, pos, level + 1, whole))
        pos += len(part) + 1
    return GLNode(op, tuple(children))


def write_gl(gl: GL) -> str:
    """The GL string of a tree (inverse of :func:`parse_gl` on well-formed input)."""
    if isinstance(gl, GLLeaf):
        return gl.token
    return gl.op.join(write_gl(c) for c in gl.children)


def leaves(gl: GL) -> list[GLLeaf]:
    """Every leaf, left to right."""
    if isinstance(gl, GLLeaf):
        return [gl]
    return [leaf for c in gl.children for leaf in leaves(c)]


_GLSC_RE = re.compile(r"^(hla|kir)#([^#]+)#(.*)$", re.DOTALL)


@dataclass(frozen=True)
class GLStringCode:
    """``namespace#version#glstring``: the version is an IPD-IMGT/HLA release (or a date when unknown)."""

    namespace: str
    version: str
    gl: str

    def __str__(self) -> str:
        return f"{self.namespace}#{self.version}#{self.gl}"


def parse_glsc(text: str) -> GLStringCode | None:
    """A GL String Code, or None when ``text`` is a plain GL string."""
    m = _GLSC_RE.match(text)
    if not m:
        return None
    return GLStringCode(m.group(1), m.group(2), m.group(3))
