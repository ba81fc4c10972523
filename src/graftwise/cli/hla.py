"""``graftwise hla``: reduce, validate and expand HLA typings (hla-nomenclature.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import typer
from rich.markup import escape

from graftwise.cli._common import err_console, nomenclature, print_json
from graftwise.errors import GraftwiseError
from graftwise.hla.gl import GLStringCode, parse_glsc
from graftwise.hla.reduce import REDUCTION_TYPES, Compat

app = typer.Typer(
    help="HLA nomenclature: reduce typings and GL strings (to G, P, lgx, serology, …), validate them, expand "
    "multiple allele codes. Typings are read from the arguments, or from stdin one per line.",
    no_args_is_help=True,
)

_RELEASE = typer.Option("Latest", "--release", "-r", help="IPD-IMGT/HLA release, e.g. 3.58.0, 3580 or Latest.")
_JSON = typer.Option(False, "--json", help='Write a JSON list of {"input", "output", "error"} instead of lines.')
_TYPINGS = typer.Argument(None, help="Typings or GL strings; none: read stdin, one per line.", show_default=False)


def _inputs(typings: list[str] | None) -> Iterator[str]:
    if typings:
        yield from typings
        return
    for line in sys.stdin:
        yield line.rstrip("\n").rstrip("\r")


def _batch(typings: list[str] | None, as_json: bool, work: Callable[[str], str]) -> None:
    """Run ``work`` on every input in order; a failing input gets its error (stderr, or the JSON ``error``) and the
    batch goes on. Exit status 1 if any input failed."""
    rows: list[dict[str, str | None]] = []
    failed = 0
    for number, text in enumerate(_inputs(typings), start=1):
        output: str | None = None
        error: str | None = None
        try:
            output = work(text)
        except GraftwiseError as exc:
            error = f"{type(exc).__name__} ({exc.code}): {exc}"
            failed += 1
        if as_json:
            rows.append({"input": text, "output": output, "error": error})
        else:
            sys.stdout.write(f"{output or ''}\n")
            if error is not None:
                err_console.print(f"error in input {number} ({text!r}): {escape(error)}", highlight=False)
    if as_json:
        print_json(rows)
    if failed:
        raise typer.Exit(1)


@app.command("reduce")
def reduce(
    typings: list[str] | None = _TYPINGS,
    release: str = _RELEASE,
    to: str = typer.Option(
        "lgx", "--to", "-t", help=f"Reduction type: {', '.join(REDUCTION_TYPES)} (default lgx, the 2-field ARD name)."
    ),
    compat: str | None = typer.Option(
        None, "--compat", help="'py-ard' reproduces py-ard 2.4.2 exactly; default: the official IMGT data."
    ),
    lenient: bool = typer.Option(False, "--lenient", help="Follow renamed allele names instead of rejecting them."),
    as_json: bool = _JSON,
) -> None:
    """Reduce each typing (allele, MAC, XX code, serology or whole GL string) and print one line per input. A GL
    String Code (hla#3.44.0#…) is reduced in its own release and written back as a GL String Code."""
    if compat not in (None, "py-ard"):
        raise typer.BadParameter("only 'py-ard' is supported", param_hint="--compat")
    if to not in REDUCTION_TYPES:
        raise typer.BadParameter(f"expected one of {', '.join(REDUCTION_TYPES)}", param_hint="--to")
    mode: Compat = "py-ard" if compat else None

    def work(text: str) -> str:
        code = parse_glsc(text.strip())
        if code is None:
            return nomenclature(release).reduce(text, to, mode, lenient=lenient).value
        # A GL String Code names its own release, which overrides --release (hla-nomenclature.md §11.3).
        reduced = nomenclature(code.version).reduce(code.gl, to, mode, lenient=lenient).value
        return str(GLStringCode(code.namespace, code.version, reduced))

    _batch(typings, as_json, work)


@app.command("validate")
def validate(
    typings: list[str] | None = _TYPINGS,
    release: str = _RELEASE,
    lenient: bool = typer.Option(False, "--lenient", help="Accept renamed allele names (with a warning)."),
    as_json: bool = _JSON,
) -> None:
    """Check each typing or GL string; print 'valid' (plus any warning) or its error."""
    nom = nomenclature(release)

    def check(text: str) -> str:
        nom.validate(text, lenient=lenient)
        warnings = nom.reduce(text, "lgx", lenient=lenient).warnings
        return "valid" + "".join(f"; warning: {w}" for w in warnings)

    _batch(typings, as_json, check)


@app.command("expand-mac")
def expand_mac(
    typings: list[str] | None = _TYPINGS,
    release: str = _RELEASE,
    as_json: bool = _JSON,
) -> None:
    """Expand each NMDP multiple allele code (e.g. A*01:AB) to the alleles valid in the release."""
    nom = nomenclature(release)
    _batch(typings, as_json, nom.expand_mac)
