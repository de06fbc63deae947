"""A tuibill command run in a child Python whose script prints « name value » lines: what the
process imported, froze or closed is seen from outside, as a user's command ends."""

from __future__ import annotations

import os
import subprocess
import sys


def run_child(script: str, *argv: str) -> dict[str, str]:
    """Run *script* (``python -c``) with *argv*, no user configuration; its « name value »
    lines as a dict. The child must succeed."""
    env = {**os.environ, "TUIBILL_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
