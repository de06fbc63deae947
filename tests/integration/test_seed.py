"""Seeded data is as valid as billed data (issue 12): priced by the same pricing, and every
seeded validated invoice goes into a lot; the history it writes is chained."""

from __future__ import annotations

from tuibill.config import TransmissionSettings
from tuibill.models import Invoice, InvoiceLine
from tuibill.services import audit, lots, seed


def test_seeded_validated_invoices_all_go_into_lots(demo_url) -> None:
    counts = seed.seed(3000, years=1, rng_seed=7)
    assert counts["invoices"] == 3000
    assert counts["lines"] == InvoiceLine.select().join(Invoice).where(
        Invoice.created_by == "seed"
    ).count()
    validated = Invoice.select().where(
        (Invoice.state == "VALIDEE") & (Invoice.created_by == "seed")
    ).count()
    assert validated > 100
    report = lots.build_lots(TransmissionSettings(), user="test")
    assert report.skipped == ()
    assert sum(lot.invoice_count for lot in report.lots if lot.kind == "FSE") >= validated
    assert audit.verify().ok


def test_seeded_lines_add_up_like_billed_ones(demo_url) -> None:
    seed.seed(500, years=1, rng_seed=3)
    for invoice in Invoice.select().where(Invoice.created_by == "seed").limit(200):
        lines = list(invoice.lines)
        assert sum(line.total_cents for line in lines) == invoice.total_cents
        for line in lines:
            assert line.total_cents == (
                line.unit_cents * line.coefficient_x100 * line.quantity * 2 + 100
            ) // 200
            assert line.amo_cents + line.amc_cents + line.patient_cents == line.total_cents


def test_a_big_seed_makes_the_indexes_it_dropped_again(demo_url) -> None:
    """A seed that at least doubles the invoices drops their indexes and makes them again
    (issue 12: a million invoices in under 45 s); a smaller one writes through them."""
    from tuibill.models import db

    def indexes() -> dict[str, str]:
        return dict(
            db.execute_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND tbl_name IN ('invoice', 'invoice_line', 'invoice_transition')"
            ).fetchall()
        )

    before = indexes()
    assert len(before) > 10
    seed.seed(2000, years=1, rng_seed=5)  # 2,000 on the demo's 79: dropped, made again
    assert indexes() == before
    seed.seed(500, years=1, rng_seed=6)  # 500 on 2,079: kept all along
    assert indexes() == before
    assert Invoice.select().where(Invoice.created_by == "seed").count() == 2500
    plan = " ".join(
        str(row[-1])
        for row in db.execute_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM invoice WHERE patient_name >= 'M' "
            "AND patient_name < 'N'"
        )
    )
    assert "INDEX" in plan  # the planner has its indexes (and their statistics) back
    assert audit.verify().ok
