#!/usr/bin/env bash
# The README's first command: install tuibill (scripts/install.sh) and open the demo
# (embedded SQLite database, emulated card reader and portable reader). Arguments go to
# `tuibill demo` (e.g. --reset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/tuibill demo "$@"
