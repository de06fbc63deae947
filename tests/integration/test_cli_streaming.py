"""The journal's exports stream (issue 12): memory does not grow with the history's size, in every
format. Measured with the children's peak RSS (resource), never with a clock."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest


def peak_rss_kib(*args: str) -> int:
    """The peak RSS of one `tuibill` run, in KiB (run in a fresh child of its own)."""
    code = (
        "import resource, subprocess, sys\n"
        f"subprocess.run([sys.executable, '-m', 'tuibill', *{list(args)!r}],"
        " stdout=subprocess.DEVNULL, check=True, env=None)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300,
        env={**os.environ, "TUIBILL_CONFIG": ""},
    )  # fmt: skip
    return int(done.stdout.strip())


@pytest.fixture(scope="module")
def databases(tmp_path_factory) -> tuple[str, str]:
    small, large = (str(tmp_path_factory.mktemp("stream") / f"{n}.sqlite") for n in ("s", "l"))
    for path, count in ((small, 3_000), (large, 60_000)):
        env = {**os.environ, "TUIBILL_CONFIG": ""}
        subprocess.run([sys.executable, "-m", "tuibill", "init", "--db", path, "--demo"],
                       check=True, capture_output=True, env=env)  # fmt: skip
        subprocess.run([sys.executable, "-m", "tuibill", "--db", path, "seed", "--invoices",
                        str(count), "--quiet"], check=True, capture_output=True, env=env)  # fmt: skip
    return small, large


@pytest.mark.parametrize("fmt", ["json", "csv", "text"])
def test_journal_export_memory_does_not_grow_with_the_history(databases, fmt) -> None:
    small, large = databases
    args = ("journal", "--all", "--format", fmt)
    grown = peak_rss_kib("--db", large, *args) - peak_rss_kib("--db", small, *args)
    # 20 times the rows: a list of them would add tens of MiB; a stream adds next to nothing.
    assert grown < 8 * 1024, f"{fmt}: +{grown} KiB for 57,000 more invoices"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
