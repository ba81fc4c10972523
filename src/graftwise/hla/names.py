"""The syntax of one HLA token, independent of any release (hla-nomenclature.md §§2, 6, 8, 9, 12.5).

:func:`parse_token` tells what kind of typing a token is (allele, group name, MAC, XX, serology, V2 name, WMDA
extension code) and splits it into locus, fields and suffix. Whether the name exists is the release's business
(:mod:`graftwise.hla.nomenclature`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from graftwise.hla.errors import InvalidTypingError

EXPRESSION_SUFFIXES = frozenset("NLSQCA")
"""Expression suffixes: null, low, secreted, questionable, cytoplasm, aberrant (§2.2)."""

WMDA_EXTENSION_CODES = frozenset({"NNNN", "XXXX", "UUUU", "NEW"})

_LOCUS_RE = re.compile(r"^[A-Z][A-Z0-9]*$")
_FIELD_RE = re.compile(r"^\d{2,4}$")
_MAC_RE = re.compile(r"^[A-Z]{2,5}$")
_SEROLOGY_RE = re.compile(r"^(A|B|Cw|DR|DQ|DP|Bw|Dw|DPw)(\d{1,4})$")
_V2_RE = re.compile(r"^(\d+)([A-Z]*)$")
_V2_FREE_LOCI = frozenset({"MICA", "MICB", "HFE"})


class TokenKind(enum.Enum):
    """What a single (non-GL) typing token is."""

    ALLELE = "allele"  # a full name or a 2-/3-field truncation, optionally with an expression suffix
    G_GROUP = "g_group"  # A*01:01:01G
    P_GROUP = "p_group"  # A*01:01P
    LG_GROUP = "lg_group"  # A*01:01g (py-ard lg output; Atlas small g)
    MAC = "mac"  # A*01:AB
    XX = "xx"  # A*01:XX
    SEROLOGY = "serology"  # A2, Cw10, DR15
    V2 = "v2"  # A*0101 (pre-2010 name)
    EXTENSION = "extension"  # NEW, DRB4*NNNN
    FIRST_FIELD = "first_field"  # A*01: a DNA broad, valid only inside XX handling


@dataclass(frozen=True)
class Token:
    """A parsed typing token. ``text`` is the token without the ``HLA-`` prefix; ``prefixed`` says it had one."""

    text: str
    kind: TokenKind
    locus: str
    fields: tuple[str, ...] = ()
    suffix: str = ""
    prefixed: bool = False


def split_prefix(token: str) -> tuple[str, bool]:
    """Strip a leading ``HLA-``; say whether it was there (py-ard re-adds it on output, per element)."""
    if token.startswith("HLA-"):
        return token[4:], True
    return token, False


def parse_token(token: str, *, position: int | None = None) -> Token:
    """Classify and split one typing token. Raises :class:`InvalidTypingError` for a malformed one."""
    text, prefixed = split_prefix(token.strip())
    if not text:
        raise InvalidTypingError("empty typing", token=token, position=position, code="empty_token")
    if text in WMDA_EXTENSION_CODES:
        return Token(text, TokenKind.EXTENSION, "", (text,), prefixed=prefixed)
    if "*" not in text:
        m = _SEROLOGY_RE.match(text)
        if m:
            return Token(text, TokenKind.SEROLOGY, m.group(1), (m.group(2),), prefixed=prefixed)
        raise InvalidTypingError(
            "expected an allele name like A*01:01, a code like A*01:AB or a serological antigen like A2",
            token=token,
            position=position,
            code="missing_star",
        )
    locus, _, rest = text.partition("*")
    if not _LOCUS_RE.match(locus):
        raise InvalidTypingError(
            "the locus must be upper-case letters and digits (e.g. A, DRB1)",
            token=token,
            position=position,
            code="bad_locus",
        )
    if rest in WMDA_EXTENSION_CODES:
        return Token(text, TokenKind.EXTENSION, locus, (rest,), prefixed=prefixed)
    if ":" not in rest:
        return _parse_colonless(text, locus, rest, prefixed, token, position)
    parts = rest.split(":")
    if any(p == "" for p in parts):
        raise InvalidTypingError("a field is empty", token=token, position=position, code="empty_field")
    if len(parts) == 2 and parts[1].isalpha():
        if not _FIELD_RE.match(parts[0]) and not parts[0].isdigit():
            raise InvalidTypingError(
                "the first field must be digits", token=token, position=position, code="non_numeric_field"
            )
        code = parts[1]
        if code == "XX":
            return Token(text, TokenKind.XX, locus, (parts[0], code), prefixed=prefixed)
        if _MAC_RE.match(code):
            return Token(text, TokenKind.MAC, locus, (parts[0], code), prefixed=prefixed)
        raise InvalidTypingError(
            "a multiple allele code is 2 to 5 capital letters", token=token, position=position, code="bad_mac"
        )
    last = parts[-1]
    suffix = ""
    kind = TokenKind.ALLELE
    m = re.match(r"^(\d+)([A-Za-z]*)$", last)
    if not m:
        raise InvalidTypingError(
            "fields are digits, only the last may end in a suffix letter",
            token=token,
            position=position,
            code="non_numeric_field",
        )
    last_digits, suffix = m.group(1), m.group(2)
    if suffix:
        if suffix == "G":
            kind = TokenKind.G_GROUP
        elif suffix == "P":
            kind = TokenKind.P_GROUP
        elif suffix == "g":
            kind = TokenKind.LG_GROUP
        elif suffix == "Ng" or (len(suffix) == 1 and suffix in EXPRESSION_SUFFIXES):
            kind = TokenKind.LG_GROUP if suffix == "Ng" else TokenKind.ALLELE
        else:
            raise InvalidTypingError(
                f"unknown suffix {suffix!r}; expected one of N L S Q C A (expression) or G P g (group)",
                token=token,
                position=position,
                code="bad_suffix",
            )
    fields = (*parts[:-1], last_digits)
    for f in fields:
        if not _FIELD_RE.match(f):
            raise InvalidTypingError(
                "each field has 2 to 4 digits", token=token, position=position, code="non_numeric_field"
            )
    if len(fields) > 4:
        raise InvalidTypingError("an allele name has at most 4 fields", token=token, position=position)
    return Token(text, kind, locus, tuple(fields), suffix, prefixed)


def _parse_colonless(text: str, locus: str, rest: str, prefixed: bool, token: str, position: int | None) -> Token:
    m = _V2_RE.match(rest)
    if not m:
        raise InvalidTypingError(
            "expected fields separated by ':'", token=token, position=position, code="missing_colon"
        )
    digits, letters = m.groups()
    if locus in _V2_FREE_LOCI and len(digits) == 3 and letters in ("", *EXPRESSION_SUFFIXES):
        return Token(text, TokenKind.ALLELE, locus, (digits,), letters, prefixed)  # MICA*002, HFE*003N
    if len(digits) == 2 and not letters:
        return Token(text, TokenKind.FIRST_FIELD, locus, (digits,), prefixed=prefixed)
    if locus in _V2_FREE_LOCI or (len(digits) < 4 and not (len(digits) == 2 and letters)):
        raise InvalidTypingError(
            "expected fields separated by ':' (e.g. A*01:01)", token=token, position=position, code="missing_colon"
        )
    return Token(text, TokenKind.V2, locus, (digits,), letters, prefixed)


def v2_to_v3(token: Token) -> str:
    """The mechanical V2 → V3 conversion of §6 step 2 (the explicit table comes first, in the release)."""
    digits, letters = token.fields[0], token.suffix
    locus = token.locus
    if len(digits) == 2 and letters:
        return f"{locus}*{digits}:{letters}"
    if locus.startswith("DP") and len(digits) == 5:
        groups = [digits[:3], digits[3:]]
    elif len(digits) % 2 == 0:
        groups = [digits[i : i + 2] for i in range(0, len(digits), 2)]
    else:
        groups = [digits[:2], digits[2:]]
    return f"{locus}*{':'.join(groups)}{letters}"


def allele_name(locus: str, fields: tuple[str, ...] | list[str], suffix: str = "") -> str:
    """``A``, ``("01","01")``, ``"N"`` → ``A*01:01N``."""
    return f"{locus}*{':'.join(fields)}{suffix}"


def split_allele(name: str) -> tuple[str, tuple[str, ...], str]:
    """``A*01:01:01:02N`` → ``("A", ("01","01","01","02"), "N")``, for names known to be well formed."""
    locus, _, rest = name.partition("*")
    suffix = ""
    while rest and rest[-1].isalpha():
        suffix = rest[-1] + suffix
        rest = rest[:-1]
    return locus, tuple(rest.split(":")), suffix


def fields_of(name: str, n: int) -> str:
    """``fields(x, n)``: the first ``n`` fields of an allele name, without suffix."""
    locus, fields, _ = split_allele(name)
    return allele_name(locus, fields[:n])


def is_null_name(name: str) -> bool:
    """True iff ``name`` is an allele name ending in N (a MAC such as ``A*01:MN`` is not, §2.2)."""
    _locus, _, rest = name.partition("*")
    return bool(rest) and rest.endswith("N") and rest[-2:-1].isdigit()
