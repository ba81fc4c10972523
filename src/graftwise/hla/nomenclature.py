"""The nomenclature of one IPD-IMGT/HLA release: what every typing token means (hla-nomenclature.md).

:meth:`Nomenclature.typing` turns one token (allele, truncation, short null, G or P group name, MAC, XX code,
serology, V2 name, renamed name) into a :class:`Typing`: the set of current full allele names it can stand for.
Everything downstream (reductions, matching, prediction) works from that set and the group tables here.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, cast

from graftwise.data import DataRoot, cache_dir
from graftwise.data.cache import read_cached, write_cached
from graftwise.errors import ValidationError
from graftwise.hla.cwd import CWD_CATALOGUES, CWDCatalogue, CWDStatus, load_cwd
from graftwise.hla.drbx import blend_drbx
from graftwise.hla.errors import (
    DeletedAlleleError,
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
from graftwise.hla.gl import GL, GLLeaf, GLNode, parse_gl, parse_glsc
from graftwise.hla.mac import MACTable, load_mac_table
from graftwise.hla.names import (
    Token,
    TokenKind,
    allele_name,
    fields_of,
    is_null_name,
    parse_token,
    split_allele,
    v2_to_v3,
)
from graftwise.hla.reduce import Compat, LgxCandidates, Reducer, Reduction
from graftwise.hla.tables import ReleaseTables, load_tables

DNA_BROADS: dict[str, tuple[str, ...]] = {
    "A*09": ("23", "24"),
    "A*10": ("25", "26", "34", "66"),
    "A*19": ("29", "30", "31", "32", "33", "74"),
    "A*28": ("68", "69"),
    "B*05": ("51", "52"),
    "B*12": ("44", "45"),
    "B*16": ("38", "39"),
    "B*17": ("57", "58"),
    "B*21": ("49", "50"),
    "B*22": ("54", "55", "56"),
    "C*10": ("03", "04"),
    "DQB1*01": ("05", "06"),
    "DRB1*02": ("15", "16"),
    "DRB1*06": ("13", "14"),
}
"""DNA broads absorbing their splits in XX codes (§9; py-ard's table). ``C*10`` is py-ard's "Cw10 broad", which is
not the serological relation (Cw3 is the broad of Cw9 and Cw10): it is accepted with a warning."""

_SEROLOGY_ONLY_WARNING = {"C*10": "C*10:XX follows py-ard's 'Cw10 broad' table (C*03 + C*04), not rel_ser_ser"}


@dataclass(frozen=True)
class Typing:
    """One token interpreted in a release.

    ``alleles`` are the current full allele names the token can stand for (empty for serology with no alleles, for
    ``NEW`` and ``NNNN``). ``renamed_from`` is the retired name a lenient lookup followed.
    """

    text: str
    kind: TokenKind
    locus: str
    alleles: frozenset[str]
    warnings: tuple[str, ...] = ()
    renamed_from: str | None = None

    @property
    def is_single_allele(self) -> bool:
        return len(self.alleles) == 1 and self.kind in (TokenKind.ALLELE, TokenKind.V2)


_RESULTS_LIMIT = 1 << 20
"""Memoised reductions kept; the memo is emptied when it fills (bounded memory on large donor files)."""


@dataclass(frozen=True)
class TCEGroup:
    """A DPB1 TCE assignment as written (``raw``: ``3``, ``2a``, ``3$``, ``0`` or ``""``) and how Atlas reads it:
    ``group`` is the first character as a number (``2a`` → 2, ``3$`` → 3), None for ``0`` (null) or unassigned;
    ``by_functional_distance`` is True for a trailing ``$`` (matching.md §5.1)."""

    allele: str
    version: str
    raw: str

    @property
    def group(self) -> int | None:
        return int(self.raw[0]) if self.raw and self.raw[0] in "123" else None

    @property
    def by_functional_distance(self) -> bool:
        return self.raw.endswith("$")


@dataclass
class Nomenclature:
    """The nomenclature of one release plus the MAC table. Build with :meth:`load`; immutable after that."""

    tables: ReleaseTables
    macs: MACTable
    _memo: dict[tuple[str, bool], Typing] = field(default_factory=dict, repr=False)
    _members: dict[str, frozenset[str] | None] = field(default_factory=dict, repr=False)
    root: DataRoot | None = None
    """Where the release came from; the CWD catalogues are read from its ``cwd/`` folder."""
    _reducers: dict[tuple[Compat, LgxCandidates], Reducer] = field(default_factory=dict, repr=False)
    _results: dict[tuple[str, str, Compat, bool, str], Reduction] = field(default_factory=dict, repr=False)
    _values: dict[tuple[str, Compat, bool, str], dict[str, str]] = field(default_factory=dict, repr=False)
    _cwd_rows: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, release: str = "Latest", root: DataRoot | None = None) -> Nomenclature:
        """Load ``release`` (``"3.58.0"``, ``"3580"`` or ``"Latest"``) from the data root (``GRAFTWISE_DATA`` or the
        user cache), using the compiled cache when its sources are unchanged."""
        root = root or DataRoot.discover()
        return cls(load_tables(release, root), load_mac_table(root), root=root)

    @property
    def release(self) -> str:
        return self.tables.release

    # ---- indices, built once ------------------------------------------------------------------------------------

    @cached_property
    def full_names(self) -> frozenset[str]:
        return frozenset(self.tables.alleles)

    @cached_property
    def loci(self) -> frozenset[str]:
        return frozenset(a.partition("*")[0] for a in self.tables.alleles)

    @cached_property
    def _order(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.tables.alleles)}

    @cached_property
    def _by_prefix(self) -> dict[str, tuple[str, ...]]:
        """``LOCUS*F1:F2`` and ``LOCUS*F1:F2:F3`` (no suffix) → the full names under that prefix."""
        index: dict[str, list[str]] = defaultdict(list)
        for name in self.tables.alleles:
            locus, fields, _ = split_allele(name)
            for n in (2, 3):
                if len(fields) > n:
                    index[allele_name(locus, fields[:n])].append(name)
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def _by_first_field(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = defaultdict(list)
        for name in self.tables.alleles:
            locus, fields, _ = split_allele(name)
            index[allele_name(locus, fields[:1])].append(name)
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def g_group_of(self) -> dict[str, str]:
        """Full allele name → its official G-group name (alleles in no named group are absent)."""
        return {m: g for g, members in self.tables.g_groups.items() for m in members}

    @cached_property
    def p_group_of(self) -> dict[str, str]:
        """Full allele name → its official P-group name (nulls and singletons are absent)."""
        return {m: p for p, members in self.tables.p_groups.items() for m in members}

    @cached_property
    def _serology_alleles(self) -> dict[str, frozenset[str]]:
        index: dict[str, set[str]] = defaultdict(set)
        for allele, assignment in self.tables.serology.items():
            for antigen in assignment.antigens:
                index[antigen].add(allele)
        return {k: frozenset(v) for k, v in index.items()}

    @cached_property
    def known_antigens(self) -> frozenset[str]:
        """Every serological antigen the release knows: hla_nom rows, rel_ser_ser and rel_dna_ser (never a hard-coded
        list, §7.3)."""
        names = set(self.tables.antigens)
        for broad, splits in self.tables.splits.items():
            names.add(broad)
            names.update(splits)
        for antigen, assoc in self.tables.associated.items():
            names.add(antigen)
            names.update(assoc)
        names.update(self._serology_alleles)
        return frozenset(names)

    # ---- one token ------------------------------------------------------------------------------------------------

    def typing(self, token: str, *, lenient: bool = False, position: int | None = None) -> Typing:
        """Interpret one typing token. ``lenient`` follows renamed names (donor import); strict mode (the default,
        for patient data) raises :class:`RenamedAlleleError` with the successor as suggestion."""
        key = (token, lenient)
        found = self._memo.get(key)
        if found is None:
            try:
                found = self._interpret(parse_token(token, position=position), lenient)
            except HLAError as exc:
                if exc.release is None:
                    exc.release = self.release
                if exc.position is None and position is not None:
                    exc.position = position
                raise
            self._memo[key] = found
        return found

    def alleles(self, token: str, *, lenient: bool = False) -> frozenset[str]:
        """The current full allele names ``token`` can stand for."""
        return self.typing(token, lenient=lenient).alleles

    def _interpret(self, tok: Token, lenient: bool) -> Typing:
        if tok.kind is TokenKind.EXTENSION:
            return Typing(tok.text, tok.kind, tok.locus, frozenset())
        if tok.kind is TokenKind.SEROLOGY:
            return self._serology(tok)
        if tok.locus not in self.loci:
            raise UnknownLocusError(
                f"unknown locus {tok.locus!r} in release {self.release}", token=tok.text, code="unknown_locus"
            )
        if tok.kind is TokenKind.FIRST_FIELD:
            raise InvalidTypingError(
                "a first field alone is not an allele; write e.g. A*01:XX for every allele of the group",
                token=tok.text,
                code="first_field_only",
            )
        if tok.kind is TokenKind.V2:
            return self._v2(tok, lenient)
        if tok.kind is TokenKind.XX:
            return self._xx(tok)
        if tok.kind is TokenKind.MAC:
            return self._mac(tok)
        if tok.kind is TokenKind.G_GROUP:
            return self._group(tok, self.tables.g_groups, "G")
        if tok.kind is TokenKind.P_GROUP:
            return self._group(tok, self.tables.p_groups, "P")
        if tok.kind is TokenKind.LG_GROUP:
            raise InvalidGroupNameError(
                "lowercase-g (lg) names are reduction output, not input, in strict mode",
                token=tok.text,
                code="lowercase_g_in_strict",
            )
        return self._allele(tok, lenient)

    def _allele(self, tok: Token, lenient: bool) -> Typing:
        name = tok.text
        members = self._allele_members(name)
        if members is not None:
            warnings: tuple[str, ...] = ()
            if len(tok.fields) < 4 and name not in self.full_names and not tok.suffix:
                suffixes = {split_allele(m)[2] for m in members}
                if suffixes and "" not in suffixes:
                    only = "".join(sorted(suffixes))
                    warnings = (f"{name} names only {only}-suffixed alleles; the WHO name is {name}{only}",)
            return Typing(name, tok.kind, tok.locus, members, warnings)
        retired = self.tables.retired.get(name)
        if retired is not None:
            return self._retired(tok, lenient)
        raise InvalidAlleleError(f"not an allele of release {self.release}", token=name, code="not_in_release")

    def _allele_members(self, name: str) -> frozenset[str] | None:
        """Full names under an allele name, truncation or short null; None when it names nothing. Memoised: MAC
        expansions name the same 2-field alleles over and over."""
        try:
            return self._members[name]
        except KeyError:
            found = self._members[name] = self._find_members(name)
            return found

    def _find_members(self, name: str) -> frozenset[str] | None:
        if name in self.full_names:
            return frozenset((name,))
        locus, fields, suffix = split_allele(name)
        if len(fields) >= 4:
            return None
        under = self._by_prefix.get(allele_name(locus, fields))
        if not under:
            return None
        if suffix:
            picked = frozenset(m for m in under if split_allele(m)[2] == suffix)
            return picked or None
        return frozenset(under)

    def _retired(self, tok: Token, lenient: bool) -> Typing:
        path = [tok.text]
        current = tok.text
        while current not in self.full_names and self._allele_members(current) is None:
            retired = self.tables.retired.get(current)
            if retired is None or retired.successor is None:
                reason = retired.reason if retired else "no successor"
                raise DeletedAlleleError(
                    f"deleted from IPD-IMGT/HLA with no successor ({reason})",
                    token=tok.text,
                    code="deleted_no_successor",
                )
            current = retired.successor
            if current in path:
                raise DeletedAlleleError("renaming history loops", token=tok.text, code="deleted_no_successor")
            path.append(current)
        reasons = "; ".join(
            f"{old} → {new} ({self.tables.retired[old].reason})" for old, new in itertools.pairwise(path)
        )
        if not lenient:
            raise RenamedAlleleError(
                f"renamed in IPD-IMGT/HLA: {reasons}; use {current}",
                token=tok.text,
                code="renamed",
                suggestions=[current],
            )
        target = self._interpret(parse_token(current), lenient)
        return Typing(
            tok.text, tok.kind, tok.locus, target.alleles, (*target.warnings, f"renamed: {reasons}"), tok.text
        )

    def _v2(self, tok: Token, lenient: bool) -> Typing:
        if tok.text in self.tables.retired:
            return self._retired(tok, lenient)
        converted = v2_to_v3(tok)
        try:
            target = self._interpret(parse_token(converted), lenient)
        except HLAError:
            raise InvalidAlleleError(
                f"V2 name converts to {converted}, which is not valid in release {self.release}",
                token=tok.text,
                code="not_in_release",
            ) from None
        return Typing(tok.text, tok.kind, tok.locus, target.alleles, (*target.warnings, f"V2 name for {converted}"))

    def _group(self, tok: Token, groups: dict[str, tuple[str, ...]], kind: str) -> Typing:
        members = groups.get(tok.text)
        if members is None:
            raise InvalidGroupNameError(
                f"not an official {kind}-group name of release {self.release}",
                token=tok.text,
                code=f"unofficial_{kind.lower()}",
            )
        return Typing(tok.text, tok.kind, tok.locus, frozenset(members))

    def xx_first_fields(self, locus: str, first: str) -> tuple[str, ...]:
        """The first fields an XX code covers: itself, or a DNA broad's splits (§9)."""
        return DNA_BROADS.get(f"{locus}*{first}", (first,))

    def _xx(self, tok: Token) -> Typing:
        first = tok.fields[0]
        members: set[str] = set()
        for f in self.xx_first_fields(tok.locus, first):
            members.update(self._by_first_field.get(f"{tok.locus}*{f}", ()))
        if not members:
            raise InvalidXXError(
                f"no alleles with first field {first} at {tok.locus} in release {self.release}",
                token=tok.text,
                code="no_alleles_in_group",
            )
        warn = _SEROLOGY_ONLY_WARNING.get(f"{tok.locus}*{first}")
        return Typing(tok.text, tok.kind, tok.locus, frozenset(members), (warn,) if warn else ())

    def mac_elements(self, tok: Token) -> tuple[str, ...]:
        """The allele names a MAC decodes to, before filtering against the release (§8)."""
        first, code = tok.fields
        expansion = self.macs.codes.get(code)
        if expansion is None:
            raise InvalidMACError(f"unknown multiple allele code {code!r}", token=tok.text, code="unknown_code")
        if self.macs.is_generic(code):
            return tuple(f"{tok.locus}*{first}:{e}" for e in expansion)
        counts = Counter(e.split(":")[0] for e in expansion)
        top = max(counts.values())
        expected = min((f for f, c in counts.items() if c == top), key=int)
        if first != expected:
            raise InvalidMACError(
                f"allele-specific code {code} ({'/'.join(expansion)}) belongs to group {expected}, not {first}",
                token=tok.text,
                code="wrong_group_for_specific_code",
            )
        return tuple(f"{tok.locus}*{e}" for e in expansion)

    def _mac(self, tok: Token) -> Typing:
        members: set[str] = set()
        dropped = []
        for name in self.mac_elements(tok):
            found = self._allele_members(name)
            if found is None:
                dropped.append(name)
            else:
                members.update(found)
        if not members:
            error = InvalidMACError(
                f"none of its alleles ({', '.join(dropped)}) is valid in release {self.release}",
                token=tok.text,
                code="no_valid_expansion",
            )
            error.compat_class = "InvalidAlleleError"  # py-ard fails on the empty list it reduces
            raise error
        warnings = (f"dropped alleles not in release {self.release}: {', '.join(dropped)}",) if dropped else ()
        return Typing(tok.text, tok.kind, tok.locus, frozenset(members), warnings)

    def related_antigens(self, antigen: str) -> tuple[str, ...]:
        """The antigen, its splits if it is a broad, and the associated antigens of each (§7.3 step 1)."""
        out = [antigen, *self.tables.splits.get(antigen, ())]
        for a in list(out):
            out.extend(self.tables.associated.get(a, ()))
        return tuple(dict.fromkeys(out))

    def _serology(self, tok: Token) -> Typing:
        if tok.text not in self.known_antigens:
            raise InvalidSerologyError(
                f"not a serological antigen of release {self.release}", token=tok.text, code="unknown_antigen"
            )
        members: set[str] = set()
        for antigen in self.related_antigens(tok.text):
            members.update(self._serology_alleles.get(antigen, ()))
        return Typing(tok.text, tok.kind, tok.locus, frozenset(members))

    # ---- GL strings -----------------------------------------------------------------------------------------------

    def parse(self, gl: str, *, lenient: bool = False) -> GL:
        """Parse and validate a GL string (or GL String Code of this release): every leaf must be a valid typing."""
        tree = self._parse_versioned(gl)
        for leaf in _leaves(tree):
            self.typing(leaf.token, lenient=lenient, position=leaf.position)
        return tree

    def validate(self, gl: str, *, lenient: bool = False) -> None:
        """Raise the first problem of a typing or GL string; return None when it is valid."""
        self.parse(gl, lenient=lenient)

    def problems(self, gl: str, *, lenient: bool = False) -> list[HLAError]:
        """Every problem of a GL string, one per invalid leaf (empty when valid)."""
        try:
            tree = self._parse_versioned(gl)
        except HLAError as exc:
            return [exc]
        found: list[HLAError] = []
        for leaf in _leaves(tree):
            try:
                self.typing(leaf.token, lenient=lenient, position=leaf.position)
            except HLAError as exc:
                found.append(exc)
        return found

    def _parse_versioned(self, gl: str) -> GL:
        code = parse_glsc(gl)
        if code is None:
            return parse_gl(gl.strip())
        if code.namespace != "hla" or code.version != self.release:
            raise ReleaseError(
                f"GL String Code is for {code.namespace} {code.version}; this nomenclature is hla {self.release}",
                code="glsc_release_mismatch",
                field=gl,
            )
        return parse_gl(code.gl)

    # ---- facts about alleles --------------------------------------------------------------------------------------

    def ard_name(self, allele: str) -> str:
        """The 2-field antigen-recognition-domain name of one full allele: the ``lgx`` of §12.1 with official
        G-group names. A P-not-G allele takes its P group's 2 fields (ping, §12.3); an allele in a named G group takes
        the group's 2 fields; any other keeps its own 2 fields, with its suffix when that short name is valid."""
        pname = self.p_group_of.get(allele)
        gname = self.g_group_of.get(allele)
        if pname is not None and gname is None:
            return fields_of(pname, 2)
        if gname is not None:
            return fields_of(gname, 2)
        locus, fields, suffix = split_allele(allele)
        short = allele_name(locus, fields[:2])
        if suffix and self._allele_members(short + suffix) is not None:
            return short + suffix
        return short

    @cached_property
    def _small_g(self) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
        """The small-g groups and their inverse, from the compiled cache when built before for these tables (keyed by
        their digest: building takes seconds, reading tens of milliseconds)."""
        path = cache_dir() / "compiled" / self.release / f"small-g-{self.tables.digest}.pickle"
        if self.tables.digest:
            cached = read_cached(path, tuple)
            if cached is not None and len(cached) == 2:
                # Re-keyed by the tables' own name objects: lookups of this release's allele sets then hit on
                # identity instead of comparing unpickled copies of the names.
                own = {a: a for a in self.tables.alleles}
                read_groups = cast(dict[str, frozenset[str]], cached[0])
                groups = {g: frozenset(own.get(a, a) for a in members) for g, members in read_groups.items()}
                return groups, {own.get(a, a): g for a, g in cast(dict[str, str], cached[1]).items()}
        groups = self._build_small_g_groups()
        found = (groups, {a: g for g, members in groups.items() for a in members})
        if self.tables.digest:
            with contextlib.suppress(OSError):  # a read-only cache only costs the rebuild
                write_cached(path, found, stale_glob="small-g-*.pickle")
        return found

    @property
    def small_g_groups(self) -> dict[str, frozenset[str]]:
        """Atlas's protein-level ARD groups that also carry nulls ("small g", §12.4), by name (with locus)."""
        return self._small_g[0]

    @property
    def small_g_of(self) -> dict[str, str]:
        """Full allele name → its small-g group name."""
        return self._small_g[1]

    def _build_small_g_groups(self) -> dict[str, frozenset[str]]:
        g_units = [frozenset(m) for m in self.tables.g_groups.values()]
        in_named_g = {a for unit in g_units for a in unit}
        g_units += [frozenset((a,)) for a in self.tables.g_listed if a not in in_named_g]
        unit_of = {a: unit for unit in g_units for a in unit}
        p_units = {p: frozenset(m) for p, m in self.tables.p_groups.items()}
        in_named_p = {a for m in p_units.values() for a in m}
        for a in self.tables.p_listed - in_named_p:
            p_units[a] = frozenset((a,))
        groups: dict[str, frozenset[str]] = {}
        covered: set[str] = set()
        for pname, members in p_units.items():
            nulls = {a for m in members for a in unit_of.get(m, ()) if is_null_name(a)}
            everyone = members | nulls
            covered |= everyone
            two_fields = {fields_of(a, 2) for a in everyone}
            name = two_fields.pop() if len(two_fields) == 1 else pname.removesuffix("P") + "g"
            groups[name] = groups.get(name, frozenset()) | everyone
        null_only: dict[str, set[str]] = defaultdict(set)
        for unit in g_units:
            if not unit & self.tables.p_listed:
                for a in unit:
                    null_only[fields_of(a, 2)].add(a)
        for key, null_members in null_only.items():
            name = key + split_allele(next(iter(null_members)))[2] if len(null_members) == 1 else key
            groups[name] = groups.get(name, frozenset()) | frozenset(null_members)
        return groups

    def sort_alleles(self, names: Iterable[str]) -> list[str]:
        """Full allele names in release (``Allelelist``) order."""
        order = self._order
        return sorted(names, key=lambda n: order.get(n, len(order)))

    # ---- reductions (hla-nomenclature.md §§11-14) ------------------------------------------------------------------

    def reducer(self, compat: Compat = None, lgx_candidates: LgxCandidates = "all") -> Reducer:
        """The (memoising) reducer of one mode; compatibility mode always keeps the lowest lgx candidate."""
        if compat not in (None, "py-ard"):
            raise ValidationError(f"unknown compatibility mode {compat!r}; expected 'py-ard' or None", field="compat")
        if lgx_candidates not in ("all", "lowest"):
            raise ValidationError("lgx_candidates must be 'all' or 'lowest'", field="lgx_candidates")
        key = (compat, "lowest" if compat else lgx_candidates)
        found = self._reducers.get(key)
        if found is None:
            found = Reducer(self, compat is not None, key[1])
            self._reducers[key] = found
        return found

    def reduce(
        self,
        gl: str,
        to: str = "lgx",
        compat: Compat = None,
        *,
        lenient: bool = False,
        lgx_candidates: LgxCandidates = "all",
    ) -> Reduction:
        """Reduce a typing or GL string (or GL String Code of this release) to ``to``: one of G, P, lg, lgx
        (default), W, exon, U2, S, 1F, small_g, cwd (§12.1). ``compat="py-ard"`` reproduces py-ard 2.4.2; the default
        follows the official IMGT data (docs/hla/divergences.md). ``lgx_candidates`` says what lgx returns for a
        truncation touching several ARD groups: ``"all"`` of them or only the ``"lowest"`` (py-ard's choice).
        Results are memoised per input (bounded), so repeated typings cost one dictionary lookup."""
        if not isinstance(gl, str):
            raise ValidationError(f"a typing must be a string, not {type(gl).__name__}", field="gl")
        key = (gl, to, compat, lenient, lgx_candidates)
        found = self._results.get(key)
        if found is None:
            found = self.reducer(compat, lgx_candidates).reduce(gl, to, lenient=lenient)
            if len(self._results) >= _RESULTS_LIMIT:
                self._results.clear()
            self._results[key] = found
        return found

    def reduce_many(
        self,
        typings: Sequence[str],
        to: str = "lgx",
        compat: Compat = None,
        *,
        lenient: bool = False,
        lgx_candidates: LgxCandidates = "all",
    ) -> list[str]:
        """The reduced values of many typings or GL strings, in order: :meth:`reduce` without the warnings and
        divergence notes, for bulk work (imports, registries). Values are memoised per input, so a typing seen before
        costs one dictionary lookup. The first invalid typing raises its error, with ``field`` naming its index."""
        memo = self._values.setdefault((to, compat, lenient, lgx_candidates), {})
        out = list(map(memo.get, typings))
        if None not in out:  # the common case, checked in C
            return cast(list[str], out)
        for i, value in enumerate(out):
            if value is None:
                typing = typings[i]
                try:
                    value = self.reduce(typing, to, compat, lenient=lenient, lgx_candidates=lgx_candidates).value
                except HLAError as exc:
                    exc.field = f"typings[{i}]"
                    raise
                if len(memo) >= _RESULTS_LIMIT:
                    memo.clear()
                memo[typing] = out[i] = value
        return cast(list[str], out)  # every None was replaced above

    def expand_mac(self, token: str) -> str:
        """The alleles of a multiple allele code that are valid in this release, as a ``/`` list (``HLA-`` kept)."""
        tok = parse_token(token)
        if tok.kind is not TokenKind.MAC:
            raise InvalidMACError("not a multiple allele code (expected e.g. A*01:AB)", token=token, code="not_a_mac")
        self.typing(token)
        valid = [n for n in self.mac_elements(tok) if self._allele_members(n) is not None]
        prefix = "HLA-" if tok.prefixed else ""
        return "/".join(prefix + n for n in valid)

    def g_groups(self, typing: str, *, lenient: bool = False) -> frozenset[str]:
        """The official G groups of every allele a token stands for; an allele in no named group stands for itself."""
        return frozenset(self.g_group_of.get(a, a) for a in self.typing(typing, lenient=lenient).alleles)

    def p_groups(self, typing: str, *, lenient: bool = False) -> frozenset[str]:
        """The official P groups of every expressed allele a token stands for. An allele on a singleton P line is its
        own group (as in Atlas); null alleles belong to no P group (§5) and contribute nothing."""
        return frozenset(
            self.p_group_of.get(a, a) for a in self.typing(typing, lenient=lenient).alleles if a in self.tables.p_listed
        )

    def serology(self, typing: str, *, compat: Compat = None, lenient: bool = False) -> frozenset[str]:
        """The serological antigens of a typing or GL string: the ``S`` reduction as a set (§12.1)."""
        value = self.reduce(typing, "S", compat, lenient=lenient).value
        return frozenset(x for x in re.split(r"[/|+^~]", value) if x)

    def tce_group(self, allele: str, *, version: Literal["V1", "V2"] = "V2") -> TCEGroup:
        """The DPB1 T-cell-epitope group of one DPB1 allele (``tce/dpb_tce.csv``; matching.md §5.1). A 2- or 3-field
        name takes the common assignment of its expressed members (nulls are group 0) and is rejected when they
        disagree."""
        if version not in ("V1", "V2"):
            raise ValidationError("TCE version must be 'V1' or 'V2'", field="version")
        typing = self.typing(allele)
        if typing.locus != "DPB1":
            raise ValidationError(f"{allele}: TCE groups exist for DPB1 alleles only", field="allele")
        column = 0 if version == "V1" else 1
        expressed = [a for a in typing.alleles if not is_null_name(a)] or list(typing.alleles)
        values = {self.tables.tce[a][column] for a in expressed if a in self.tables.tce}
        if len(values) > 1:
            raise ValidationError(
                f"{allele}: its alleles have different TCE {version} groups ({', '.join(sorted(values))})",
                field="allele",
            )
        raw = values.pop() if values else ""
        return TCEGroup(allele=allele, version=version, raw=raw)

    def cwd_catalogue(self, catalogue: str) -> CWDCatalogue:
        """The CIWD 3.0.0 (``"ciwd"``) or CWD 2.0.0 (``"cwd2"``) catalogue, read from the data root's ``cwd/``."""
        if catalogue not in CWD_CATALOGUES:
            raise ValidationError(
                f"unknown catalogue {catalogue!r}; expected one of {', '.join(CWD_CATALOGUES)}", field="catalogue"
            )
        return load_cwd(self.root or DataRoot.discover(), catalogue)

    def cwd_status(self, allele: str, catalogue: str = "ciwd", population: str = "TOTAL") -> CWDStatus | None:
        """The common / intermediate / well-documented status of one allele (§10), or None when the catalogue does
        not list it. The lookup tries the full name, its 3- and 2-field names (with the allele's expression
        suffix, then without), its G and its P group; a bare 2-field CIWD row stands for its whole P group."""
        cat = self.cwd_catalogue(catalogue)
        typing = self.typing(allele)
        if len(typing.alleles) != 1:
            raise ValidationError(f"{allele}: CWD status is given for one allele, not a list", field="allele")
        (full,) = typing.alleles
        _, _, suffix = split_allele(full)
        candidates = [full]
        for n in (3, 2):
            short = fields_of(full, n)
            candidates += [short + suffix, short] if suffix else [short]
        candidates += [g for g in (self.g_group_of.get(full), self.p_group_of.get(full)) if g]
        pname = self.p_group_of.get(full)
        if pname is not None:
            candidates += self._two_field_rows_by_p(catalogue).get(pname, ())
        for name in dict.fromkeys(candidates):
            status = cat.status(name, population)
            if status is not None:
                return status
        return None

    def _two_field_rows_by_p(self, catalogue: str) -> dict[str, tuple[str, ...]]:
        """P group → the catalogue's bare 2-field rows whose alleles lie in it (built once per catalogue)."""
        found = self._cwd_rows.get(catalogue)
        if found is None:
            by_p: dict[str, set[str]] = defaultdict(set)
            for row in self.cwd_catalogue(catalogue).two_field_rows:
                for allele in self._allele_members(row) or ():
                    if allele in self.p_group_of:
                        by_p[self.p_group_of[allele]].add(row)
            found = {p: tuple(sorted(rows)) for p, rows in by_p.items()}
            self._cwd_rows[catalogue] = found
        return found

    def dr_blender(self, drb1: str, drb3: str = "", drb4: str = "", drb5: str = "") -> str:
        """The DRB3/4/5 genotype consistent with a DRB1 genotype (§14; py-ard's ``dr_blender``)."""
        return blend_drbx(drb1, drb3, drb4, drb5)


def _leaves(gl: GL) -> list[GLLeaf]:
    if isinstance(gl, GLNode):
        return [leaf for c in gl.children for leaf in _leaves(c)]
    return [gl]
