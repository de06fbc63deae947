"""The return invoice's entities, sorted by class once when it is made: every accessor says
what a scan of the entities in file order says, and nothing of the index shows in what the
posting keeps (equality, asdict, replace)."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from noemie_samples import invoice_entities, sample_line, small_return

from tuibill.formats.noemie_content import (
    ActLine,
    AmcPart,
    AmoPart,
    Archive,
    Comment,
    InsuranceNature,
    Insured,
    InsuredPatient,
    Patient,
    Rejection,
    ReturnInvoice,
    Signalement,
)

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SINGLES = {
    "insured_patient": InsuredPatient,
    "insured": Insured,
    "patient": Patient,
    "nature": InsuranceNature,
    "archive": Archive,
    "amo": AmoPart,
    "amc": AmcPart,
}
SEVERAL = {
    "lines": ActLine,
    "signalements": Signalement,
    "rejections": Rejection,
    "comments": Comment,
}


def _invoice(entities: tuple) -> ReturnInvoice:
    return ReturnInvoice(virement=0, number="000000101", entities=entities)


@FUZZ
@given(invoice_entities(20))
def test_accessors_say_what_a_scan_says(entities: tuple) -> None:
    invoice = _invoice(entities)
    for name, cls in SINGLES.items():
        first = next((e for e in entities if isinstance(e, cls)), None)
        assert getattr(invoice, name) is first, name
    for name, cls in SEVERAL.items():
        assert getattr(invoice, name) == tuple(e for e in entities if isinstance(e, cls)), name
    paid = sum(p.paid_cents or 0 for p in (invoice.amo, invoice.amc) if p is not None)
    assert invoice.paid_cents == paid


def test_the_index_is_no_field() -> None:
    entities = (AmoPart(asked_cents=189, state="P", paid_cents=189), sample_line(1, 189))
    invoice = _invoice(entities)
    assert "_kinds" not in dataclasses.asdict(invoice)
    assert "_kinds" not in repr(invoice)
    assert invoice == _invoice(entities)
    assert invoice.paid_cents == 189


def test_replace_sorts_the_new_entities() -> None:
    invoice = _invoice((AmoPart(asked_cents=189, state="P", paid_cents=189),))
    other = dataclasses.replace(
        invoice, entities=(AmoPart(asked_cents=189, state="R"), sample_line(1, 0))
    )
    assert other.amo is not None and other.amo.state == "R"
    assert other.paid_cents == 0
    assert len(other.lines) == 1
    assert invoice.lines == ()


def test_sample_return_paid() -> None:
    content = small_return()
    assert content.total_paid_cents == sum(i.paid_cents for i in content.invoices)


def test_matching_number() -> None:
    def matching(number: str) -> str | None:
        return ReturnInvoice(virement=0, number=number).matching_number

    assert matching("000000101") == "000000101"
    assert matching("101      ") == "000000101"
    assert matching("   101") == "000000101"
    assert matching("1234567890") is None  # ten digits: not one of tuibill's numbers
    assert matching("12A") is None
    assert matching("١٢٣") is None  # digits, but not ASCII ones
    assert matching("         ") is None


def test_every_invoice_entity_is_made_from_its_fields_alone() -> None:
    # Should a field be added to an entity and not to its record (or the reverse), the reader
    # goes back to the class's __init__: this says it went back, before anything slows down.
    from tuibill.formats.noemie_content import ENTITY_CLASSES
    from tuibill.formats.noemie_reader import DIRECT_ENTITIES

    assert set(ENTITY_CLASSES.values()) == DIRECT_ENTITIES


def test_entities_read_are_those_their_init_makes() -> None:
    from noemie_samples import sample_bytes

    from tuibill.formats.noemie_reader import read_return

    content = read_return(sample_bytes())
    entities = [entity for invoice in content.invoices for entity in invoice.entities]
    assert entities
    for entity in entities:
        values = {item.name: getattr(entity, item.name) for item in dataclasses.fields(entity)}
        made = type(entity)(**values)
        assert entity == made and hash(entity) == hash(made) and repr(entity) == repr(made)
        assert dataclasses.asdict(entity) == dataclasses.asdict(made)
        assert vars(entity) == vars(made)
        try:
            entity.depth = 0  # type: ignore[misc]
        except dataclasses.FrozenInstanceError:
            pass
        else:
            raise AssertionError("an entity read must stay frozen")
