"""Reductions of typings and GL strings (hla-nomenclature.md §§11.2, 12, 13).

One algorithm, two sets of tables:

* **default mode** follows the official IPD-IMGT/HLA data: official G-group names (3rd field of ``hla_nom_g.txt``),
  every G/P/lgx candidate of a truncation that touches several groups, ping (P-group fallback) applied to every allele
  in a named P group but no named G group, S of 3-field names computed from their members, group names (``…G``,
  ``…P``) read as their official member lists, strict validation by :meth:`Nomenclature.typing`.
* **compatibility mode** (``compat="py-ard"``) reproduces py-ard 2.4.2: G names recomputed from the first listed
  allele (py-ard #232), one lgx candidate (the lowest-numbered, #333), ping only through py-ard's P-not-G table (#351
  gap), ``""`` for S of 3-field names, py-ard's name validity (``A*01:01:99:99`` accepted via its 2-field form).

Every deliberate difference is listed in ``docs/hla/divergences.md``. Each leaf of a GL string is reduced on its own
(memoised per token), then the results are reassembled per operator (§11.2): ``/``, ``|`` and ``^`` flatten,
de-duplicate, drop empty parts and sort; ``+`` drops empty parts and sorts but keeps duplicates; ``~`` keeps
everything in its original order.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from graftwise.data import cache_dir
from graftwise.data.cache import read_cached, write_cached
from graftwise.errors import ValidationError
from graftwise.hla.errors import HLAError, InvalidAlleleError, InvalidMACError
from graftwise.hla.gl import GL, GLLeaf
from graftwise.hla.names import TokenKind, parse_token, split_prefix, v2_to_v3
from graftwise.hla.sort import pyard_min, pyard_sort, smart_sort

if TYPE_CHECKING:
    from graftwise.hla.nomenclature import Nomenclature
    from graftwise.hla.tables import ReleaseTables

_T = TypeVar("_T")
ReductionType = Literal["G", "P", "lg", "lgx", "W", "exon", "U2", "S", "1F", "small_g", "cwd"]
REDUCTION_TYPES: tuple[str, ...] = get_args(ReductionType)
Compat = Literal["py-ard"] | None
LgxCandidates = Literal["all", "lowest"]

G_GROUP_LOCI = frozenset(
    ("A", "B", "C", "DMA", "DMB", "DOA", "DOB", "DPA1", "DPB1", "DQA1", "DQB1", "DRA", "DRB1", "DRB3", "DRB4"),
) | {"DRB5", "E", "F", "G"}
"""Loci with G-group data; typings of other loci (MICA, MICB, …) pass through reductions unchanged (§12.5)."""

_PYARD_EXPRESSION = "NQLS"
"""The expression suffixes py-ard knows (§2.2); C and A are not among them."""
_NO_V2_LOCI = frozenset({"MICA", "MICB", "HFE"})
_GROUPING = frozenset({"lg", "lgx", "G", "P"})
_SCHEMA = 1
"""Version of :class:`ReductionTables`; bump when its build changes so cached tables are rebuilt."""
_GL_SYNTAX = re.compile(r"[/|+^~#?\s]|^$")
"""Anything that needs the GL parser (operators, a GL String Code, characters it must reject)."""


@dataclass(frozen=True)
class Reduction:
    """The result of a reduction: ``value`` is a GL string, possibly ``""`` (serology with no alleles, S of a null, a
    locus without serology); empty results are not errors. ``divergences`` (compatibility mode) say where py-ard's
    answer differs from the IMGT-based default."""

    value: str
    release: str
    warnings: tuple[str, ...] = ()
    divergences: tuple[str, ...] = ()


def _fields(name: str, n: int, *, keep_expression: bool = False) -> str:
    """First ``n`` fields after dropping a trailing ``P``/``G`` (py-ard's ``get_2field_allele`` semantics: a suffix
    survives only when the name has at most ``n`` fields, unless ``keep_expression``)."""
    if name[-1:] in ("P", "G"):
        name = name[:-1]
    parts = name.split(":")
    if keep_expression and len(parts) > n and name[-1] in _PYARD_EXPRESSION:
        return ":".join(parts[:n]) + name[-1]
    return ":".join(parts[:n])


def _computed_g_name(first_member: str) -> str:
    """py-ard's G name: the first listed allele's first 3 fields plus ``G`` (2-field: ``:01G``), issue #232."""
    name = first_member
    if name[-1] in "PG" + _PYARD_EXPRESSION:
        name = name[:-1]
    parts = name.split(":")
    return f"{name}:01G" if len(parts) == 2 else ":".join(parts[:3]) + "G"


@dataclass(frozen=True)
class ReductionTables:
    """Per-release lookup tables of one mode, built once. Keys are full names and their 2- and 3-field prefixes."""

    g: dict[str, str]
    p: dict[str, str]
    lgx: dict[str, str]
    exon: dict[str, str]
    p_not_g: dict[str, str]
    who: dict[str, tuple[str, ...]]
    who_alleles: frozenset[str]
    valid: frozenset[str]
    shortnulls: dict[str, tuple[str, ...]]
    xx: dict[str, tuple[str, ...]]
    g_names: frozenset[str]
    p_names: frozenset[str]
    several_lgx: frozenset[str]
    """Keys whose members reduce to several lgx names (compat keeps the lowest)."""

    @cached_property
    def p_not_g_values(self) -> frozenset[str]:
        return frozenset(self.p_not_g.values())


def build_tables(tables: ReleaseTables, *, compat: bool, lgx_candidates: LgxCandidates) -> ReductionTables:
    """Build the lookup tables of one mode from a release's files (see the module docstring for the differences)."""
    sort = pyard_sort if compat else smart_sort
    g_rows: list[tuple[str, str]] = []  # (allele, G name) in file order
    for official, members in tables.g_groups.items():
        name = _computed_g_name(members[0]) if compat else official
        g_rows.extend((a, name) for a in members)
    p_rows = [(a, p) for p, members in tables.p_groups.items() for a in members]

    def keyed(rows: list[tuple[str, str]], value: Callable[[str], str]) -> tuple[dict[str, str], dict[str, set[str]]]:
        """py-ard's map (2-field rows, then 3-field, then full names; the last row wins) and every value per key."""
        last: dict[str, str] = {}
        every: dict[str, set[str]] = defaultdict(set)
        for n in (2, 3, 4):
            for allele, group in rows:
                key = _fields(allele, n) if n < 4 else allele
                last[key] = value(group)
                every[key].add(value(group))
        return last, every

    g_last, g_every = keyed(g_rows, lambda g: g)
    p_last, p_every = keyed(p_rows, lambda p: p)
    lgx_last, lgx_every = keyed(g_rows, lambda g: _fields(g, 2))
    g_2d = {_fields(a, 2) for a, _ in g_rows}
    several_lgx = frozenset(k for k, v in lgx_every.items() if len(v) > 1)

    if compat:
        g = dict(g_last)
        for key in {_fields(a, 2) for a, _ in g_rows}:
            if len(g_every[key]) > 1:  # only 2-field keys get every G group (py-ard's dup_g)
                g[key] = "/".join(sort(g_every[key]))
        p = p_last
        lgx = dict(lgx_last)
        for key in several_lgx:
            if key in g_2d:
                lgx[key] = pyard_min(sort(lgx_every[key]))
        exon = {a: _fields(a, 3) for a, _ in g_rows}
        p_not_g = {a: _fields(pname, 2) for a, pname in p_rows if _fields(a, 2) not in g_2d}
    else:
        g = {k: "/".join(sort(v)) for k, v in g_every.items()}
        p = {k: "/".join(sort(v)) for k, v in p_every.items()}
        if lgx_candidates == "all":
            lgx = {k: "/".join(sort(v)) for k, v in lgx_every.items()}
        else:
            lgx = {k: pyard_min(sort(v)) for k, v in lgx_every.items()}
        exon = {a: _fields(a, 3) for a in tables.alleles}
        in_named_g = {a for a, _ in g_rows}
        p_not_g = {a: _fields(pname, 2) for a, pname in p_rows if a not in in_named_g}

    who: dict[str, set[str]] = defaultdict(set)
    for allele in tables.alleles:
        for n in (1, 2, 3):
            who[_fields(allele, n)].add(allele)
    if compat:
        for key, name in g_last.items():
            who[name].add(key)
        for key, name in p_last.items():
            who[name].add(key)
    else:
        for group_name, members in (*tables.g_groups.items(), *tables.p_groups.items()):
            who[group_name].update(members)

    by_2d_expression: dict[str, set[str]] = defaultdict(set)
    for allele in tables.alleles:
        if allele[-1] in _PYARD_EXPRESSION and allele.count(":") >= 2:
            by_2d_expression[_fields(allele, 2)].add(allele[-1])
    expression_2d = {k + next(iter(v)) for k, v in by_2d_expression.items() if len(v) == 1}
    valid = frozenset(tables.alleles) | {_fields(a, n) for a in tables.alleles for n in (2, 3)} | expression_2d

    shortnulls: dict[str, list[str]] = defaultdict(list)
    for key, names in who.items():
        if ":" in key and key[-1] not in _PYARD_EXPRESSION + "GP":
            for m in names:
                if m[-1] in _PYARD_EXPRESSION:
                    shortnulls[key + m[-1]].append(m)

    xx: dict[str, set[str]] = defaultdict(set)
    for allele in tables.alleles:
        xx[_fields(allele, 1)].add(_fields(allele, 2))
    from graftwise.hla.nomenclature import DNA_BROADS

    for broad, splits in DNA_BROADS.items():
        locus = broad.split("*")[0]
        merged = set(xx.get(broad, ()))
        for split in splits:
            merged |= xx.get(f"{locus}*{split}", set())
        if merged:
            xx[broad] = merged

    return ReductionTables(
        g=g,
        p=p,
        lgx=lgx,
        exon=exon,
        p_not_g=p_not_g,
        who={k: tuple(sort(v)) for k, v in who.items()},
        who_alleles=frozenset(tables.alleles),
        valid=valid,
        shortnulls={k: tuple(sort(v)) for k, v in shortnulls.items()},
        xx={k: tuple(sort(v)) for k, v in xx.items()},
        g_names=frozenset(g_last.values()) if compat else frozenset(tables.g_groups),
        p_names=frozenset(tables.p_groups),
        several_lgx=several_lgx,
    )


@dataclass(frozen=True)
class SerologyMaps:
    """Allele → antigens and lgx name → antigens of one mode (the S reduction's lookup tables)."""

    by_allele: dict[str, tuple[str, ...]]
    by_lgx: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Leaf:
    value: str
    warnings: tuple[str, ...] = ()
    divergences: tuple[str, ...] = ()


@dataclass
class Reducer:
    """Reductions in one mode for one release. Build through :meth:`Nomenclature.reduce`, which keeps one per mode."""

    nom: Nomenclature
    compat: bool
    lgx_candidates: LgxCandidates = "all"
    _leaves: dict[tuple[str, str, bool], _Leaf] = field(default_factory=dict, repr=False)
    _elements: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _alleles: dict[tuple[str, str, bool], str] = field(default_factory=dict, repr=False)

    @cached_property
    def t(self) -> ReductionTables:
        """The mode's tables (building takes about two seconds, so they are kept in the compiled cache)."""
        return self._compiled(
            "reduce",
            ReductionTables,
            lambda: build_tables(self.nom.tables, compat=self.compat, lgx_candidates=self.lgx_candidates),
        )

    def _compiled(self, what: str, kind: type[_T], build: Callable[[], _T]) -> _T:
        """``build()``, from the compiled cache when the release's sources are unchanged."""
        tables = self.nom.tables
        if not tables.digest:
            return build()
        mode = "pyard" if self.compat else f"default-{self.lgx_candidates}"
        path = cache_dir() / "compiled" / tables.release / f"{what}-{mode}-{_SCHEMA}-{tables.digest}.pickle"
        cached = read_cached(path, kind)
        if cached is None:
            cached = build()
            write_cached(path, cached, stale_glob=f"{what}-{mode}-*.pickle")
        return cached

    def _sort(self, items: Iterable[str]) -> list[str]:
        return pyard_sort(items) if self.compat else smart_sort(items)

    # ---- GL strings ---------------------------------------------------------------------------------------------

    def reduce(self, gl: str, to: str, *, lenient: bool = False) -> Reduction:
        if to not in REDUCTION_TYPES:
            raise ValidationError(
                f"unknown reduction type {to!r}; expected one of {', '.join(REDUCTION_TYPES)}", field="to"
            )
        if not isinstance(gl, str):
            raise ValidationError("a typing must be a string", field="gl")
        if not _GL_SYNTAX.search(gl):  # a single token: no GL parse needed
            leaf = self.leaf(gl, to, lenient=lenient, position=0)
            return Reduction(leaf.value, self.nom.release, leaf.warnings, leaf.divergences)
        tree = self.nom._parse_versioned(gl)
        leaves: dict[int, _Leaf] = {}
        self._collect(tree, to, lenient, leaves)
        warnings = tuple(dict.fromkeys(w for leaf in leaves.values() for w in leaf.warnings))
        divergences = tuple(dict.fromkeys(d for leaf in leaves.values() for d in leaf.divergences))
        return Reduction(self._assemble(tree, leaves), self.nom.release, warnings, divergences)

    def _collect(self, gl: GL, to: str, lenient: bool, out: dict[int, _Leaf]) -> None:
        if isinstance(gl, GLLeaf):
            out[gl.position] = self.leaf(gl.token, to, lenient=lenient, position=gl.position)
            return
        for child in gl.children:
            self._collect(child, to, lenient, out)

    def _assemble(self, gl: GL, leaves: dict[int, _Leaf]) -> str:
        if isinstance(gl, GLLeaf):
            return leaves[gl.position].value
        parts = [self._assemble(c, leaves) for c in gl.children]
        if gl.op == "~":
            return "~".join(parts)
        if gl.op == "+":
            return "+".join(self._sort(p for p in parts if p))
        return gl.op.join(self._sort({x for p in parts for x in p.split(gl.op) if x}))

    # ---- one token ----------------------------------------------------------------------------------------------

    def leaf(self, token: str, to: str, *, lenient: bool = False, position: int | None = None) -> _Leaf:
        """Validate and reduce one token (memoised)."""
        key = (token, to, lenient)
        found = self._leaves.get(key)
        if found is None:
            try:
                found = self._leaf(token, to, lenient)
            except HLAError as exc:
                exc.release = exc.release or self.nom.release
                if exc.position is None:
                    exc.position = position
                raise
            self._leaves[key] = found
        return found

    def _leaf(self, token: str, to: str, lenient: bool) -> _Leaf:
        text, prefixed = split_prefix(token.strip())
        warnings: tuple[str, ...] = ()
        divergences: tuple[str, ...] = ()
        if self.compat:
            strict_error = self._compat_validate(text, lenient)
            if strict_error:
                divergences = (f"{text}: accepted by py-ard; strict mode rejects it ({strict_error})",)
            value = self._element(text, to)
            if not strict_error:
                try:
                    default = self.nom.reducer(None).leaf(text, to, lenient=lenient).value
                except HLAError as exc:
                    default = f"an error ({exc})"
                if set(default.split("/")) != set(value.split("/")):
                    divergences = (f"{text} → {to}: py-ard gives {value!r}; the IMGT-based default gives {default!r}",)
        else:
            typing = self.nom.typing(text, lenient=lenient)
            warnings = typing.warnings
            value = self._default_element(text, to, typing.kind, typing.alleles)
        if prefixed and value:
            value = "/".join(f"HLA-{v}" for v in value.split("/"))
        return _Leaf(value, warnings, divergences)

    def _compat_validate(self, text: str, lenient: bool) -> str:
        """Raise where py-ard's strict validation raises; return the strict-mode objection py-ard overlooks, if any."""
        try:
            self.nom.typing(text, lenient=lenient)
            strict_error = ""
        except HLAError as exc:
            if not self._pyard_valid(text):
                raise
            strict_error = str(exc)
        else:
            if not self._pyard_valid(text):
                raise InvalidAlleleError(
                    "not a valid typing for py-ard 2.4.2 (compatibility mode)", token=text, code="not_in_release"
                )
        return strict_error

    def _pyard_valid(self, text: str) -> bool:
        if not text or text.endswith("*"):
            return False
        if "*" in text and not text.replace("*", "").replace(":", "").isalnum():
            return False
        return (
            self._is_mac(text)
            or self._is_xx(text)
            or self._is_serology(text)
            or self._v2_target(text) is not None
            or text in self.t.shortnulls
            or self._valid_allele(text)
        )

    def _valid_allele(self, name: str) -> bool:
        if name.endswith("G"):
            return name in self.t.g_names
        if name.endswith("P"):
            return name in self.t.p_names
        if "*" in name and not all(f.isalnum() for f in name.split("*", 1)[1].split(":")):
            return False
        return name in self.t.valid or _fields(name, 2) in self.t.valid

    def _is_mac(self, text: str) -> bool:
        parts = text.split(":")
        if len(parts) != 2 or not parts[1].isalpha():
            return False
        expansion = self.nom.macs.codes.get(parts[1])
        if not expansion:
            return False
        if self.nom.macs.is_generic(parts[1]):
            return True
        most_common = Counter(e.split(":")[0] for e in expansion).most_common(1)[0][0]
        return parts[0].split("*")[-1] == most_common

    def _mac_elements(self, text: str) -> list[str]:
        first, code = text.split(":")
        locus = first.split("*")[0]
        expansion = self.nom.macs.codes[code]
        if self.nom.macs.is_generic(code):
            names = [f"{first}:{e}" for e in expansion]
        else:
            names = [f"{locus}*{e}" for e in expansion]
        return [n for n in names if n in self.t.valid]

    def _is_xx(self, text: str) -> bool:
        parts = text.split(":")
        return len(parts) >= 2 and parts[1] == "XX" and parts[0] in self.t.xx

    def _is_serology(self, text: str) -> bool:
        return "*" not in text and ":" not in text and text in self.nom.known_antigens

    def _v2_target(self, text: str) -> str | None:
        if "*" not in text or ":" in text or text.split("*")[0] in _NO_V2_LOCI:
            return None
        try:
            tok = parse_token(text)
        except HLAError:
            return None
        if tok.kind is not TokenKind.V2:
            return None
        retired = self.nom.tables.retired.get(text)
        target = retired.successor if retired and retired.successor else v2_to_v3(tok)
        if target is None:
            return None
        if target.split(":")[-1].isalpha():
            return target if self._is_mac(target) else None
        return target if target in self.t.valid else None

    # ---- the reduction of one element (compat dispatch, §12.5) --------------------------------------------------

    def _element(self, name: str, to: str) -> str:
        key = (name, to)
        found = self._elements.get(key)
        if found is None:
            found = self._dispatch(name, to)
            self._elements[key] = found
        return found

    def _list(self, names: Iterable[str], to: str) -> str:
        """Reduce an allele list and reassemble it as ``/`` does (flatten, de-duplicate, drop empty, sort)."""
        out = {x for n in names for x in self._element(n, to).split("/") if x}
        return "/".join(self._sort(out))

    def _dispatch(self, name: str, to: str) -> str:
        if "*" in name and name.split("*")[0] not in G_GROUP_LOCI:
            return name
        if to == "small_g":
            return self._small_g(name)
        if to == "cwd":
            return self._cwd(name)
        v3 = self._v2_target(name)
        if v3 is not None:
            return self._element(v3, to)
        if self._is_serology(name):
            return self._list(self._serology_members(name), to)
        if self._is_xx(name):
            return self._list(self.t.xx[name.split(":")[0]], to)
        if ":" in name and name.split(":")[1].isalpha() and len(name.split(":")) == 2:
            if not self._is_mac(name):
                raise InvalidMACError("not a multiple allele code of this group", token=name, code="unknown_code")
            elements = self._mac_elements(name)
            if not elements:
                error = InvalidMACError(
                    f"no allele of the code is valid in release {self.nom.release}",
                    token=name,
                    code="no_valid_expansion",
                )
                error.compat_class = "InvalidAlleleError"  # py-ard reduces the empty list and fails on ''
                raise error
            return self._list(elements, to)
        if name in self.t.shortnulls:
            return self._list(self.t.shortnulls[name], to)
        return self._allele(name, to, re_ping=True)

    def _default_element(self, text: str, to: str, kind: TokenKind, members: frozenset[str]) -> str:
        """Default mode: group names stand for their official members; everything else as in compat dispatch."""
        if kind is TokenKind.EXTENSION:
            return text
        if kind in (TokenKind.G_GROUP, TokenKind.P_GROUP):
            own = "G" if kind is TokenKind.G_GROUP else "P"
            if to == own:
                return text
            return self._list(self.nom.sort_alleles(members), to)
        if kind is TokenKind.SEROLOGY:
            return self._list(members, to)
        if (
            kind in (TokenKind.ALLELE, TokenKind.V2)
            and text not in self.t.valid
            and text not in self.t.shortnulls
            and self._v2_target(text) is None
        ):
            return self._list(members, to)  # a renamed name followed in lenient mode: its current alleles
        return self._element(text, to)

    # ---- the allele reducer with ping (§12.3) -------------------------------------------------------------------

    def _allele(self, name: str, to: str, *, re_ping: bool) -> str:
        key = (name, to, re_ping)
        found = self._alleles.get(key)
        if found is None:
            found = self._allele_uncached(name, to, re_ping)
            self._alleles[key] = found
        return found

    def _allele_uncached(self, name: str, to: str, re_ping: bool) -> str:
        if name[-1:] in ("P", "G") and to in _GROUPING:
            name = name[:-1]
        if re_ping and to in ("lg", "lgx", "U2"):
            pinged = self.t.p_not_g.get(name)
            if pinged is not None:
                return pinged + "g" if to == "lg" else pinged
            first = self._allele(name, to, re_ping=False)
            plain = first[:-1] if first.endswith("g") else first
            # py-ard reduces any changed single result once more; the default only a name that came from no table
            # (its own first two fields), because a G group's official 2-field name can span several groups.
            settled = not self.compat and to != "U2" and name in self.t.lgx
            if not settled and plain != name and "/" not in plain and plain not in self.t.p_not_g_values:
                again = self._allele(plain, to, re_ping=False)
                if "/" in again or self._valid_allele(again):
                    return again
            return first
        return self._one(name, to)

    def _one(self, name: str, to: str) -> str:
        t = self.t
        if to == "G":
            return t.g.get(name) or self._unchanged(name)
        if to == "P":
            return t.p.get(name) or self._unchanged(name)
        if to in ("lgx", "lg"):
            value = t.lgx.get(name) or ":".join(name.split(":")[:2])
            return "/".join(v + "g" for v in value.split("/")) if to == "lg" else value
        if to == "W":
            if name in t.who_alleles:
                return name
            return self._list(t.who[name], "W") if name in t.who else name
        if to == "exon":
            return self._exon(name)
        if to == "U2":
            if len(name.split(":")) == 2:
                return name
            two = _fields(name, 2, keep_expression=True)
            return two if two in t.valid else self._allele(name, "lgx", re_ping=True)
        if to == "S":
            return self._s(name)
        if to == "1F":
            return name.split(":")[0]
        raise ValidationError(f"unknown reduction type {to!r}", field="to")

    def _unchanged(self, name: str) -> str:
        if not self._valid_allele(name):
            raise InvalidAlleleError(f"not a valid allele of release {self.nom.release}", token=name)
        return name

    def _exon(self, name: str) -> str:
        three = self.t.exon.get(name)
        if three is not None:
            if name[-1] in _PYARD_EXPRESSION and three + name[-1] in self.t.shortnulls:
                return three + name[-1]
            return three
        expanded = self._element(name, "W")
        if expanded == name or len(expanded.split(":")) == 2:
            return name
        return self._list(expanded.split("/"), "exon")

    # ---- serology (S) -------------------------------------------------------------------------------------------

    @cached_property
    def _serology(self) -> SerologyMaps:
        return self._compiled("serology", SerologyMaps, self._build_serology)

    def _build_serology(self) -> SerologyMaps:
        """Full allele → every antigen whose list names it (broads include their splits' alleles, §7.2), and the
        same keyed by the alleles' lgx names (the lists a 2-field name is matched against, §12.1 S)."""
        direct: dict[str, set[str]] = defaultdict(set)
        for allele, assignment in self.nom.tables.serology.items():
            for antigen in assignment.antigens:
                direct[antigen].add(allele)
        for broad, splits in self.nom.tables.splits.items():
            for split in splits:
                direct[broad] = direct[broad] | direct.get(split, set())
        by_allele: dict[str, set[str]] = defaultdict(set)
        for antigen, alleles in direct.items():
            for allele in alleles:
                by_allele[allele].add(antigen)
        by_lgx: dict[str, set[str]] = defaultdict(set)
        for allele, antigens in by_allele.items():
            for lgx in self._allele(allele, "lgx", re_ping=True).split("/"):
                by_lgx[lgx].update(antigens)
        return SerologyMaps(
            by_allele={a: tuple(sorted(s)) for a, s in by_allele.items()},
            by_lgx={a: tuple(sorted(s)) for a, s in by_lgx.items()},
        )

    def _serology_members(self, antigen: str) -> list[str]:
        if self.compat:
            return sorted(a for a, s in self._serology.by_allele.items() if antigen in s and a in self.t.who_alleles)
        return sorted(self.nom.typing(antigen).alleles)

    def _s(self, name: str) -> str:
        found: set[str] = set()
        if len(name.split(":")) == 2:
            for lgx in self._allele(name, "lgx", re_ping=True).split("/"):
                found.update(self._serology.by_lgx.get(lgx, ()))
        elif name in self.t.who_alleles or self.compat:
            found.update(self._serology.by_allele.get(name, ()))
        else:  # a 3-field truncation: the antigens of its members (py-ard returns "")
            for member in self.t.who.get(name, ()):
                found.update(self._serology.by_allele.get(member, ()))
        return "/".join(self._sort(found))

    # ---- graftwise-only reductions ------------------------------------------------------------------------------

    def _small_g(self, name: str) -> str:
        """Atlas's protein-level small-g group(s) of the alleles a token stands for (§12.4)."""
        groups = {
            self.nom.small_g_of[a] for a in self.nom.typing(name, lenient=True).alleles if a in self.nom.small_g_of
        }
        return "/".join(self._sort(groups))

    def _cwd(self, name: str) -> str:
        """py-ard's ``cwd_redux`` on one element: 2-field names kept, anything else to lgx, then only the names in
        CWD 2.0 (Mack et al. 2013) are kept (§10)."""
        parts = name.split(":")
        candidates = [name] if len(parts) == 2 and not parts[1].isalpha() else self._element(name, "lgx").split("/")
        catalogue = self.nom.cwd_catalogue("cwd2")
        return "/".join(self._sort(c for c in candidates if c in catalogue))
