"""``graftwise demo``: the nomenclature engine on a handful of real typings (until donor search replaces it)."""

from __future__ import annotations

import typer
from rich.table import Table

from graftwise.cli._common import console, nomenclature

DEMO_TYPINGS = (
    "A*01:01:01:01",
    "B*07:02",
    "C*02:10",
    "DRB1*14:06:01",
    "DQB1*02:180:01",
    "A*74:21",
    "DRB4*01:03N",
    "B*15:01",
)
DEMO_MAC = "A*01:AB"
DEMO_GL = "A*01:01:01:01/A*01:01:01:03+A*43:XX^B*08:01+B*07:02^DRB1*15:01+DRB1*03:01"


def demo(
    release: str = typer.Option("3.58.0", "--release", "-r", help="IPD-IMGT/HLA release to use."),
) -> None:
    """Show the HLA nomenclature engine on real typings: G, P, lgx and serology, a MAC and a GL string."""
    nom = nomenclature(release)
    table = Table(title=f"HLA reductions, IPD-IMGT/HLA {nom.release} (official IMGT data)")
    for column in ("typing", "G", "P", "lgx", "serology (S)"):
        table.add_column(column, overflow="fold")
    for typing in DEMO_TYPINGS:
        table.add_row(typing, *(nom.reduce(typing, to).value or "—" for to in ("G", "P", "lgx", "S")))
    console.print(table)
    if len(nom.macs):
        console.print(f"\nMultiple allele code [bold]{DEMO_MAC}[/] expands to: {nom.expand_mac(DEMO_MAC)}")
        console.print(f"  and reduces (lgx) to: {nom.reduce(DEMO_MAC).value}")
    else:
        console.print("\nNo NMDP multiple allele code table in the data root (put numer.v3.txt in its mac/ folder).")
    console.print(f"\nGL string [bold]{DEMO_GL}[/]")
    console.print(f"  lgx:      {nom.reduce(DEMO_GL).value}")
    console.print(f"  serology: {nom.reduce(DEMO_GL, 'S').value}")
    compat = nom.reduce("C*02:10", "lgx", "py-ard")
    console.print(f"\nC*02:10 → lgx in py-ard compatibility mode: {compat.value} ({'; '.join(compat.divergences)})")
