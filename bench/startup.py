"""Start-up: the application's first screen against a bare Textual app (Header + Footer), the
ratio taken pair by pair in the same run.

The first screen is timed as the terminal sees it: each program runs on a real pseudo-terminal
(80×24, xterm-256color) and the time is that of the last byte written before 0.5 s of silence.
The two programs alternate (A B A B…) so that a load change hits both.

    python bench/startup.py --invoices 100000 --runs 7
"""

from __future__ import annotations

import argparse

from harness import (
    BENCH,
    PY,
    Pty,
    Result,
    big_db,
    main_of,
    median,
    ms,
    tuibill_argv,
)


def first_screen(argv: list[str]) -> float:
    """Seconds from spawning *argv* on a pty to the last byte of its first screen."""
    with Pty(argv) as pty:
        _, _, last = pty.read(0.5, timeout=20)
        if last is None:
            raise RuntimeError(f"rien n'a été affiché : {argv}")
        return last - pty.started


def paired(a: list[str], b: list[str], runs: int, timed) -> tuple[list[float], list[float]]:
    times_a, times_b = [], []
    timed(a), timed(b)  # warm the OS caches once, not counted
    for _ in range(runs):
        times_a.append(timed(a))
        times_b.append(timed(b))
    return times_a, times_b


def ratio_result(figure: str, ours: list[float], ref: list[float], goal: float, what: str) -> Result:
    ratios = [a / b for a, b in zip(ours, ref, strict=True)]
    value = median(ratios)
    return Result(
        figure,
        f"{value:.2f}×",
        f"≤ {goal:g}×",
        value <= goal,
        f"{ms(median(ours))} contre {ms(median(ref))} ({what}), médiane de {len(ratios)} paires",
    )


def run(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    results = []
    app, bare = paired(
        tuibill_argv("--db", db, "--user", "bench"), [PY, str(BENCH / "bare_app.py")],
        args.runs, first_screen,
    )  # fmt: skip
    results.append(
        ratio_result("Démarrage → 1er écran, / appli Textual nue", app, bare, 1.15,
                     "appli Header+Footer")  # fmt: skip
    )
    return results


if __name__ == "__main__":
    raise SystemExit(main_of(run, "Démarrage de l'application"))
