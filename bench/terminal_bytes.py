"""Journal des factures: what one arrow key costs the link (a slow SSH line, a modem…).

The application runs on a real pseudo-terminal, 80×24, ``TERM=xterm-256color`` (what ssh gives:
256 colours), on the big database; the bytes it writes after each key are read from the pty's
master side until 0.1 s of silence. Two figures: a cursor move that does not scroll (the first
rows of the list, median) and the average over 200 Flèche bas from the top of the journal, where
the list has to scroll.

    python bench/terminal_bytes.py --invoices 100000
"""

from __future__ import annotations

import argparse

from harness import Result, big_db, journal_on_pty, main_of, median, number

STEPS = 200


def run_figures(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    with journal_on_pty(db) as pty:
        sizes = [pty.key("down", silence=0.1)[0] for _ in range(STEPS)]
        pages = [pty.key("pagedown", silence=0.1)[0] for _ in range(10)]
    moves = sizes[:8]  # the cursor goes down the first rows of a 24-line screen: no scrolling
    average = sum(sizes) / len(sizes)
    return [
        Result("Octets par flèche, déplacement sans défilement", f"{median(moves):.0f} o",
               "≤ 600 o", median(moves) <= 600, f"médiane des {len(moves)} premières lignes"),
        Result(f"Octets par flèche, moyenne sur {STEPS} pas", f"{average:,.0f} o".replace(",", " "),
               "≤ 1 000 o", average <= 1000,
               f"max {number(max(sizes))} o ; total {number(sum(sizes))} o"),
        Result("Octets par Page suivante (médiane)", f"{number(median(pages))} o", "", None,
               "80×24 xterm-256color"),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Journal des factures : octets écrits par touche"))
