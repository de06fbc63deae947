"""Journal des factures: the memory of the application with the whole history open.

The application runs on a real pseudo-terminal (80×24) on the big database; its resident memory
(``VmRSS``) and peak (``VmHWM``) are read from ``/proc`` once the journal shows its rows, then
after Ctrl+T (the whole history), 100 Page suivante and Fin (the last rows).

    python bench/journal_rss.py --invoices 100000
"""

from __future__ import annotations

import argparse

from harness import COUNTED, Result, big_db, journal_on_pty, main_of, mib, number


def run_figures(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    with journal_on_pty(db) as pty:
        opened = pty.status()
        pty.send("ctrl+t")
        pty.wait_for(COUNTED + rb"sans limite", timeout=120)
        pty.settle(0.3)
        for _ in range(100):
            pty.key("pagedown", silence=0.03)
        pty.key("end", silence=0.5)
        pty.settle(0.5)
        after = pty.status()
    peak = after["VmHWM"]
    return [
        Result(
            f"RSS, journal de {number(args.invoices)} factures ouvert (après Ctrl+T, 100 pages, Fin)",
            mib(after["VmRSS"]), "≤ 60 MB", after["VmRSS"] <= 60 * 1024,
            f"à l'ouverture {mib(opened['VmRSS'])} ; pic {mib(peak)}",
        )
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Journal des factures : mémoire"))
