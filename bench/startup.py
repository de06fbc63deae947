"""Start-up: the application's first screen against a bare Textual app (Header + Footer), the
ratio taken pair by pair in the same run.

The first screen is timed as the terminal sees it: each program runs on a real pseudo-terminal
(80×24, xterm-256color) and the time is that of the last byte written before 0.5 s of silence
once the screen shows its content (the menu's « Facturer », the bare app's title) — the terminal
set-up a Textual app writes at once is not a screen: over a big history the menu comes later.
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

CPU: dict[str, list[float]] = {}


def first_screen(argv: list[str]) -> float:
    """Seconds from spawning *argv* on a pty to the last byte of its first screen; the CPU time
    of the whole run (start, first screen, Ctrl+Q) is kept in CPU under the program's name."""
    bare = "bare" in argv[-1]
    with Pty(argv) as pty:
        pty.wait_for(rb"Bare" if bare else rb"Facturer", timeout=30)
        pty.settle(0.5)
        last = pty.last_at
        assert last is not None
    if pty.cpu_seconds is not None:
        CPU.setdefault(argv[-1] if bare else "tuibill", []).append(pty.cpu_seconds)
    return last - pty.started


def paired(a: list[str], b: list[str], runs: int, timed) -> tuple[list[float], list[float]]:
    times_a, times_b = [], []
    timed(a), timed(b)  # warm the OS caches once, not counted
    CPU.clear()
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
    # The same runs' CPU time (start, first screen and quitting): what a busy machine's other
    # processes do not change much, where the wall-clock ratio above moves with the load.
    ours, reference = CPU.get("tuibill", []), CPU.get(str(BENCH / "bare_app.py"), [])
    if len(ours) == len(reference) and ours:
        cpu = ratio_result("Démarrage, temps CPU / appli Textual nue", ours, reference, 1.15,
                           "appli Header+Footer, CPU")  # fmt: skip
        cpu.ok = None  # a reference beside the goal's figure, not the goal itself
        cpu.goal = ""
        results.append(cpu)
    return results


if __name__ == "__main__":
    raise SystemExit(main_of(run, "Démarrage de l'application"))
