"""``tuibill report NAME`` over the big history: each follow-up report of the returns (issue 9
§4) as a user meets it on a terminal, and the charts.

The database: the big seeded one (``seeded_db``, shared with the journal's figures), copied once
to ``reports-N.sqlite`` and given the shape the returns leave on five years of a practice (plain
SQL, set-based; see :func:`shape`): the seeded invoices are grouped into the lots their lot
number names (one per practitioner, number and month), the lots sent more than a month ago are
answered — 92 % paid, 2 % partly, 1 % rejected, 1 % rejected then paid (recycled), 1 % paid with
an AMC rejection, 3 % still owed — through NOEMIE files, virements and return entries, one lot in
40 has no return (« lots sans retour », half of them pointed), and one in 13 is paid late (the
« retards » report). The copy is kept and reused; delete it to shape it again.

Each report: the time from launching ``tuibill report NAME`` on a pseudo-terminal until its first
page (200 rows, or every row when it has fewer) is on the screen — the command then goes on
streaming the rest, which is not timed. The detail gives the service's own times for the first
page and for page 50 read by key (in this process). The charts (``report graphiques --json``)
are timed whole.

    python bench/reports.py --runs 3
    python bench/reports.py --invoices 100000
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

from harness import (
    Pty,
    Result,
    arguments,
    copy_db,
    invoice_count,
    measure,
    median,
    ms,
    number,
    report,
    seeded_db,
    tuibill_argv,
    workdir,
)

PAGE = 200  # services.reports.PAGE: one page of a report
DEEP = 50  # the page read by key for the detail
GOAL = 1.0  # seconds, per report (issue 12)

# The reports of ``tuibill report`` (cli/report.py's NAMES, in its order).
NAMES = (
    "fse-transmises", "fse-non-payees", "fse-en-attente", "fse-rejetees", "fse-recyclees",
    "rejets-amc", "lots-transmis", "lots-sans-retour", "retards",
)  # fmt: skip


# --- the database --------------------------------------------------------------------------------


SHAPE = """
-- Lots: the seeded invoices that carry a lot number, one lot per practitioner, number and month
-- (the number wraps after 999), sent when its last invoice was made.
CREATE TEMP TABLE t_lot AS
  SELECT practitioner_id AS p, lot_number AS n, substr(billing_date, 1, 7) AS m,
         COALESCE(MIN(organism_id), (SELECT MIN(id) FROM organism)) AS o,
         MAX(created_at) AS at, COUNT(*) AS c, SUM(total_cents) AS total
  FROM invoice
  WHERE lot_number IS NOT NULL AND lot_id IS NULL AND state = 'TRANSMISE'
  GROUP BY 1, 2, 3;
CREATE TEMP TABLE t_base AS SELECT COALESCE(MAX(id), 0) AS lot FROM lot;
INSERT INTO lot (id, practitioner_id, organism_id, kind, number, state, created_at, created_by,
                 destination, file_name, file_sha256, codec, invoice_count, piece_count,
                 total_cents, cancelled_count, send_count, sent_at, message_id, recipient,
                 last_error, arl_at, arl_code, arl_reason)
  SELECT (SELECT lot FROM t_base) + rowid, p, o, 'FSE', n, 'ARL_POSITIF', at, 'bench', '01281',
         '', '', 'tuibill', c, 0, total, 0, 1, at, '', '', '', at, '', ''
  FROM t_lot;
CREATE INDEX t_lot_key ON t_lot (p, n, m);
UPDATE invoice SET lot_id = (SELECT lot FROM t_base) + t.rowid
  FROM t_lot AS t
  WHERE invoice.lot_number IS NOT NULL AND invoice.lot_id IS NULL AND invoice.state = 'TRANSMISE'
    AND t.p = invoice.practitioner_id AND t.n = invoice.lot_number
    AND t.m = substr(invoice.billing_date, 1, 7);

-- The answers: lots sent more than a month ago, but one in 40 (no return at all); an
-- invoice's fate by id % 100; paid 7 to 11 days after the sending, 25 days for one lot in 13.
CREATE TEMP TABLE t_answer AS
  SELECT i.id AS invoice, i.practitioner_id AS p, i.number AS num, i.lot_number AS lot_number,
         date(l.sent_at) AS lot_date, i.billing_date AS billing_date,
         i.patient_name AS patient, i.amo_cents AS amo, i.amc_cents AS amc, i.id % 100 AS fate,
         date(l.sent_at, '+' || (CASE WHEN l.id % 13 = 0 THEN 25 ELSE 7 + i.id % 5 END)
              || ' days') AS paid_on
  FROM invoice AS i JOIN lot AS l ON l.id = i.lot_id
  WHERE l.created_by = 'bench' AND l.sent_at < :month_ago AND l.id % 40 != 7
    AND i.id % 100 < 97;
UPDATE invoice SET
  state = CASE WHEN t.fate IN (92, 93) THEN 'PAYEE_PARTIELLEMENT'
               WHEN t.fate = 94 THEN 'REJETEE' ELSE 'PAYEE' END,
  amo_paid_cents = CASE WHEN t.fate IN (92, 93) THEN invoice.amo_cents * 8 / 10
                        WHEN t.fate = 94 THEN 0 ELSE invoice.amo_cents END
  FROM t_answer AS t WHERE t.invoice = invoice.id;

-- One NOEMIE file and one virement per practitioner and day of payment.
CREATE TEMP TABLE t_file AS
  SELECT p, paid_on, COUNT(*) AS c, SUM(CASE WHEN fate = 94 THEN 0 ELSE amo END) AS total
  FROM t_answer GROUP BY 1, 2;
CREATE INDEX t_file_key ON t_file (p, paid_on);
CREATE TEMP TABLE t_base2 AS
  SELECT COALESCE((SELECT MAX(id) FROM received_file), 0) AS file,
         COALESCE((SELECT MAX(id) FROM virement), 0) AS virement,
         COALESCE((SELECT MAX(id) FROM return_entry), 0) AS entry;
INSERT INTO received_file (id, kind, source, message_id, in_reply_to, file_name, sha256,
                           archive_path, received_at, status, error, processed_at)
  SELECT (SELECT file FROM t_base2) + rowid, 'noemie', 'inbox', '', '',
         'RET_' || p || '_' || paid_on || '.noe', '', '', paid_on || ' 08:00:00', 'applique', '',
         paid_on || ' 08:00:00'
  FROM t_file;
INSERT INTO virement (id, received_file_id, practitioner_id, payee_number, accounting_date,
                      label, paying_body, total_cents, invoice_count)
  SELECT (SELECT virement FROM t_base2) + f.rowid, (SELECT file FROM t_base2) + f.rowid, f.p,
         pr.am_number, f.paid_on, 'VIR CPAM PS ' || pr.am_number, 'CPAM', f.total, f.c
  FROM t_file AS f JOIN practitioner AS pr ON pr.id = f.p;
CREATE TEMP TABLE t_entry AS
  SELECT a.*, (SELECT file FROM t_base2) + f.rowid AS file,
         (SELECT virement FROM t_base2) + f.rowid AS virement,
         ROW_NUMBER() OVER (PARTITION BY f.rowid ORDER BY a.invoice) AS position
  FROM t_answer AS a JOIN t_file AS f ON f.p = a.p AND f.paid_on = a.paid_on;
INSERT INTO return_entry (id, received_file_id, virement_id, invoice_id, practitioner_id,
                          position, payee_number, invoice_number, lot_number, lot_date,
                          invoice_type, return_type, billing_date, patient_name, nir,
                          amo_asked_cents, amo_state, amo_paid_cents, amc_asked_cents, amc_state,
                          amc_paid_cents, outcome, posted, note, content, matched_by)
  SELECT (SELECT entry FROM t_base2) + e.rowid, e.file, e.virement, e.invoice, e.p, e.position,
         pr.am_number, e.num, e.lot_number, e.lot_date, 'F', '01', e.billing_date, e.patient, '',
         e.amo, CASE WHEN e.fate = 94 THEN 'R' ELSE 'P' END,
         CASE WHEN e.fate IN (92, 93) THEN e.amo * 8 / 10 WHEN e.fate = 94 THEN 0 ELSE e.amo END,
         e.amc, CASE WHEN e.fate = 96 THEN 'R' ELSE ' ' END, 0,
         CASE WHEN e.fate IN (92, 93) THEN 'partielle' WHEN e.fate = 94 THEN 'rejetee'
              ELSE 'payee' END,
         1, '', '', ''
  FROM t_entry AS e JOIN practitioner AS pr ON pr.id = e.p;

-- Rejections: the AMO's (rejected; or rejected, recycled, then paid) and the AMC's.
INSERT INTO return_rejection (entry_id, invoice_id, kind, code, label, level, part, info)
  SELECT (SELECT entry FROM t_base2) + e.rowid, e.invoice, 'rejet',
         CASE WHEN e.fate = 96 THEN '3710' ELSE '0460' END,
         CASE WHEN e.fate = 96 THEN 'DROITS AMC NON OUVERTS'
              ELSE 'ETABLISSEMENT PRESCRIPTEUR INCONNU' END,
         'F', CASE WHEN e.fate = 96 THEN 'C' ELSE 'O' END, ''
  FROM t_entry AS e WHERE e.fate IN (94, 95, 96);

-- Half of the lots without a return were pointed « traité » by the clerk.
INSERT INTO lot_pointage (lot_id, at, by, note)
  SELECT id, datetime(sent_at, '+30 days'), 'bench', 'appel à la caisse'
  FROM lot WHERE created_by = 'bench' AND sent_at < :month_ago AND id % 80 = 7;
"""


def shaped(path: Path) -> bool:
    try:
        with sqlite3.connect(path) as conn:
            return (
                conn.execute("SELECT COUNT(*) FROM lot WHERE created_by = 'bench'").fetchone()[0]
                > 0
            )
    except sqlite3.Error:
        return False


def shape(path: Path, today: date) -> None:
    """Give the seeded history the lots and the answers of the returns (see the module)."""
    month_ago = f"{today - timedelta(days=30):%Y-%m-%d} 00:00:00"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("BEGIN")
        for statement in SHAPE.split(";\n"):
            if statement.strip():
                conn.execute(
                    statement, {"month_ago": month_ago} if ":month_ago" in statement else {}
                )
        conn.execute("ANALYZE")


def prepared(folder: Path, invoices: int) -> Path:
    path = folder / f"reports-{invoices}.sqlite"
    if path.exists() and invoice_count(path) >= invoices and shaped(path):
        return path
    seeded, _ = seeded_db(folder, invoices)
    copy_db(seeded, path)
    started = time.perf_counter()
    shape(path, date.today())
    print(f"{path} : lots et retours en {time.perf_counter() - started:.1f} s", flush=True)
    return path


def counts(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        lots, entries, rejections = (
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("lot", "return_entry", "return_rejection")
        )
    return f"{number(lots)} lots, {number(entries)} retours, {number(rejections)} rejets"


# --- the figures ---------------------------------------------------------------------------------


def first_page(db: Path, name: str, timeout: float = 60.0) -> tuple[float, int]:
    """Seconds from launching ``tuibill report NAME`` on a pty until its first page is shown (its
    title, its header and PAGE rows, or the end of the command); the rows seen."""
    wanted = 2 + PAGE
    pty = Pty(tuibill_argv("--db", str(db), "report", name), size=(200, 50))
    lines = 0
    deadline = pty.started + timeout
    try:
        while lines < wanted:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"report {name} : pas de 1re page en {timeout:.0f} s")
            if not select.select([pty.master], [], [], left)[0]:
                continue
            try:
                chunk = os.read(pty.master, 65536)
            except OSError:  # EIO: the command ended
                break
            if not chunk:
                break
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - pty.started
        if pty.process.poll() is None:  # still streaming the rest: not timed
            os.killpg(pty.process.pid, signal.SIGTERM)
            pty.process.wait(timeout=10)
        elif pty.process.returncode:
            raise SystemExit(f"report {name} a échoué (code {pty.process.returncode})")
    finally:
        pty.close()
    return seconds, max(0, min(lines, wanted) - 2)


def _timed(entry, filters, after: tuple | None, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        entry.page(filters, after)
        times.append(time.perf_counter() - start)
    return median(times)


def service_times(db: Path, runs: int) -> dict[str, tuple[float, float | None]]:
    """Per report, the median seconds of ``Report.page`` for the first page and for page DEEP
    read by key (None when the report has fewer pages), in this process."""
    from tuibill.models import database
    from tuibill.services import reports

    database.bind(str(db), create=False)
    filters = reports.Filters()
    found = {}
    for name in NAMES:
        entry = reports.get(name)
        page, key = entry.page(filters, None), None
        for _ in range(DEEP - 1):
            if len(page) < reports.PAGE:
                key = None
                break
            key = page[-1].key
            page = entry.page(filters, key)

        found[name] = (
            _timed(entry, filters, None, runs),
            _timed(entry, filters, key, runs) if key is not None else None,
        )
    database.db.close()
    return found


def run_figures(args: argparse.Namespace) -> list[Result]:
    folder = workdir(args.workdir)
    db = args.db or prepared(folder, args.invoices)
    service = service_times(db, args.runs)
    shown = number(invoice_count(db))
    results = []
    for name in NAMES:
        times, rows = [], 0
        for _ in range(args.runs):
            seconds, rows = first_page(db, name)
            times.append(seconds)
        head, deep = service[name]
        detail = f"médiane de {len(times)} (lancement → 1re page) ; {rows} ligne(s) ; service : " \
                 f"1re page {ms(head)}"  # fmt: skip
        detail += f", page {DEEP} par clé {ms(deep)}" if deep is not None else ""
        results.append(Result(f"report {name} ({shown} factures) : 1re page", ms(median(times)),
                              f"≤ {GOAL:g} s", median(times) <= GOAL, detail))  # fmt: skip
    times = []
    for _ in range(args.runs):
        done = measure(tuibill_argv("--db", str(db), "report", "graphiques", "--json"))
        if done.returncode:
            raise SystemExit(done.stderr)
        times.append(done.seconds)
    results.append(Result(f"report graphiques ({shown} factures)", ms(median(times)),
                          f"≤ {GOAL:g} s", median(times) <= GOAL,
                          f"médiane de {len(times)} (commande entière, --json) ; {counts(db)}"))  # fmt: skip
    return results


if __name__ == "__main__":
    parser = arguments("Rapports de suivi des retours")
    parser.set_defaults(runs=3)
    args = parser.parse_args()
    report(run_figures(args), args, "Rapports de suivi des retours")
