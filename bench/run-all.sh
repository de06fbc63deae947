#!/bin/sh
# Every figure of issue 12 in one table: under 10 minutes on 2 cores at 1,000,000 invoices.
#
#   bench/run-all.sh                  # 1,000,000 invoices
#   bench/run-all.sh --small          # 100,000 invoices (about two minutes)
#   bench/run-all.sh --invoices N
#
# It measures the tuibill on PYTHONPATH (or the installed one), compiled to bytecode first as an
# installed package is. The databases are kept in $TMPDIR/tuibill-bench (the big one is seeded
# again by the seed figure at each run); each script's own output goes to a log beside them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
invoices=1000000
runs=5
while [ $# -gt 0 ]; do
    case "$1" in
        --small) invoices=100000 ;;
        --invoices) invoices=$2; shift ;;
        --runs) runs=$2; shift ;;
        *) echo "usage: $0 [--small | --invoices N] [--runs N]" >&2; exit 2 ;;
    esac
    shift
done
work=${TMPDIR:-/tmp}/tuibill-bench
mkdir -p "$work"
results=$work/results-$$.jsonl
log=$work/run-all-$$.log
: > "$results"
src=$("$python" -c 'import tuibill, pathlib; print(pathlib.Path(tuibill.__file__).parent)')
"$python" -m compileall -q "$src" > /dev/null
start=$(date +%s)
step() {
    printf '· %s' "$1" >&2
    shift
    # The previous figure's writes (the seed's 900 MB) reach the disk now, not while this one
    # is timed: the start-up just after the seed measured 1.19×, 1.07× after a sync.
    sync
    began=$(date +%s)
    "$python" "$@" --invoices "$invoices" --workdir "$work" --json "$results" >> "$log" 2>&1 || {
        echo " — échec : $* (voir $log)" >&2
        exit 1
    }
    echo " ($(( $(date +%s) - began )) s)" >&2
}
step "vitesse de la machine" "$here/machine_speed.py" --label début
step "seed ($invoices factures)" "$here/seed.py"
step "démarrage de l'application" "$here/startup.py" --runs $((runs * 4 + 1))
step "démarrage de la ligne de commande" "$here/cli_start.py" --runs $((runs * 3))
step "filtre patient" "$here/journal_filter.py" --runs 2
step "Page suivante" "$here/journal_paging.py" --runs 2
step "octets par touche" "$here/terminal_bytes.py"
step "mémoire du journal" "$here/journal_rss.py"
step "exports du journal" "$here/journal_export.py"
step "construction des lots" "$here/lots_build.py" --runs 3
step "validation" "$here/validation.py"
step "import d'un retour NOEMIE" "$here/returns_import.py" --runs 3
step "rapports de suivi des retours" "$here/reports.py" --runs 3
step "fin de mois de l'aide à domicile" "$here/slips.py" --runs 3
step "vitesse de la machine" "$here/machine_speed.py" --label fin
echo "(en $(( $(date +%s) - start )) s ; détails : $log)" >&2
echo
"$python" "$here/report.py" "$results"
