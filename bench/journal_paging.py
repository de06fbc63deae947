"""Journal des factures: Page suivante, key by key, as the terminal sees it.

The application runs on a real pseudo-terminal (80×24, xterm-256color) on the big database, on
the whole history (Ctrl+T). Each Page suivante is timed from the key's bytes written to the pty
to the last byte of the screen's answer. Textual draws at most 60 frames a second, which would
add 0–16.7 ms of waiting for the next frame to every key whatever the work: this figure runs
with ``TEXTUAL_FPS=1000`` so that it measures the work (the key, the rows read, the rendering,
the writing), not the frame clock.

    python bench/journal_paging.py --invoices 100000 --runs 1
"""

from __future__ import annotations

import argparse

from harness import Result, big_db, child_env, journal_on_pty, main_of, median, ms, number, p95

PRESSES = 150


def run_figures(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    latencies: list[float] = []
    sizes: list[int] = []
    for _ in range(max(1, args.runs // 2)):
        with journal_on_pty(db, all_time=True, env=child_env(TEXTUAL_FPS="1000")) as pty:
            for _ in range(PRESSES):
                size, latency = pty.key("pagedown", silence=0.08)
                if latency is not None:
                    latencies.append(latency)
                    sizes.append(size)
    return [
        Result(
            f"Journal : Page suivante, p95 ({number(args.invoices)} factures, sans limite)",
            ms(p95(latencies)), "≤ 16 ms", p95(latencies) <= 0.016,
            f"médiane {ms(median(latencies))}, max {ms(max(latencies))}, {len(latencies)} "
            f"touches ; {median(sizes):.0f} octets par page",
        )
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Journal des factures : Page suivante"))
