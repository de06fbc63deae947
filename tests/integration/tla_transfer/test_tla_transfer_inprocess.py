"""Load and unload with the database, against the in-process emulated TLA: the round trip,
and every interruption of docs/formats/tla-protocol.md §8 followed by a re-run."""

from __future__ import annotations

import base64
import json
from datetime import date, time, timedelta

import pytest

from tests.support.sesam import (
    add_patient,
    card_person,
    draft,
    fresh,
    through_a_lot,
    transitions_of,
)
from tuibill.cli.main import main
from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation
from tuibill.hardware.cards import EmulatedCardReader
from tuibill.hardware.tla import (
    CardType,
    EmulatedPortableReader,
    InvoiceToLoad,
    TlaDeviceFull,
    TlaLineLost,
    invoice_key,
)
from tuibill.hardware.tla.protocol import DeviceInvoiceState as DeviceState
from tuibill.models import Invoice, Patient
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle, patients, securing, tla_transfer


class Crash(BaseException):
    """The desk process dies here (not an error any code would catch)."""


def keys_of(invoices: list[Invoice]) -> list[str]:
    return [invoice_key(i.practitioner.am_number, i.number) for i in invoices]


def on_device(reader: EmulatedPortableReader) -> dict[str, DeviceState]:
    return {stored.key: stored.state for stored in reader.device.stored()}


@pytest.fixture
def tla(state_file) -> EmulatedPortableReader:
    return EmulatedPortableReader(state_file)


def test_round_trip(prepared, tla) -> None:
    keys = keys_of(prepared)
    outcome = tla_transfer.load_prepared(tla, "anne")
    assert outcome.loaded == keys and outcome.refused == []
    assert {fresh(i).state for i in prepared} == {"CHARGEE_TLA"}
    assert [fresh(i).tla_key for i in prepared] == keys
    assert on_device(tla) == dict.fromkeys(keys, DeviceState.LOADED)
    stored = tla.device.stored()[0]
    assert stored.patient == "MARTIN Sophie" and stored.amount_cents == prepared[0].total_cents
    assert stored.content["acts"][0]["code"] == "AMI"

    # At the patients' homes: two secured with the CPS, one semi-secured with a CPE.
    tla.device.secure(keys[:2], CardType.CPS, "Anne GAUTIER")
    tla.device.secure(keys[2:3], CardType.CPE, "Julie PETIT")
    progress: list[tuple[int, int]] = []
    outcome = tla_transfer.unload(tla, "anne", progress=lambda d, t, _m: progress.append((d, t)))
    assert (outcome.validated, outcome.to_secure) == (keys[:2], keys[2:3])
    assert outcome.not_secured == keys[3:] and outcome.rejected == []
    assert outcome.erased == keys[:3] and outcome.erase_error is None
    assert (1, 4) in progress and (4, 4) in progress

    secured, semi, left = fresh(prepared[0]), fresh(prepared[2]), fresh(prepared[3])
    assert (secured.state, secured.mode, secured.secured_with_vitale) == (
        "VALIDEE",
        "sesam_vitale",
        True,
    )
    # The device's card signed the FSE's own bytes: the signature verifies at the desk.
    assert secured.signer == "Anne GAUTIER (281234567)"
    assert secured.signing_card.startswith("CPS ") and " (TLA EMU" in secured.signing_card
    assert secured.secured_at is not None and securing.verify_invoice_signature(secured)
    assert (semi.state, semi.signer) == ("A_SECURISER", "Julie PETIT (281234567)")
    assert semi.signing_card.startswith("CPE ") and securing.verify_invoice_signature(semi)
    assert left.state == "CHARGEE_TLA"
    assert on_device(tla) == {keys[3]: DeviceState.LOADED}  # not secured: stays for next round
    assert [t[2] for t in transitions_of(secured)] == [
        "create",
        "prepare",
        "load_tla",
        "unload_secured",
    ]

    # The next round: nothing is taken twice.
    again = tla_transfer.unload(tla, "anne")
    assert again.committed == [] and again.not_secured == keys[3:]
    # The other nurse's invoice, secured with her own CPS.
    tla.device.secure(None, CardType.CPS, "Karim BRUNET", prepared[3].practitioner.am_number)
    last = tla_transfer.unload(tla, "anne")
    assert last.validated == keys[3:] and on_device(tla) == {} and last.notes == []
    assert all(len(transitions_of(i)) == 4 for i in prepared)


def test_load_rerun_after_a_desk_crash_stores_nothing_twice(prepared, tla, monkeypatch) -> None:
    keys = keys_of(prepared)
    real_move = lifecycle.move_invoice

    def crash_on_load(invoice, action, *args, **kwargs):
        if action == "load_tla":
            raise Crash()
        return real_move(invoice, action, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "move_invoice", crash_on_load)
    with pytest.raises(Crash):
        tla_transfer.load_prepared(tla, "anne")
    monkeypatch.setattr(lifecycle, "move_invoice", real_move)
    assert {fresh(i).state for i in prepared} == {"A_CHARGER"}  # step 3 rolled back
    assert list(on_device(tla)) == keys  # step 2 done
    generation = tla.device.generation

    outcome = tla_transfer.load_prepared(tla, "anne")
    assert outcome.loaded == keys
    assert tla.device.generation == generation  # LOAD answered « already »: nothing stored
    assert {fresh(i).state for i in prepared} == {"CHARGEE_TLA"}


def test_secured_before_the_load_was_recorded(prepared, tla, monkeypatch) -> None:
    """The load's recording was lost, then the PS went on the round: the unload records the
    load first, then the securing (one transaction); a load re-run never conflicts."""
    keys = keys_of(prepared)
    monkeypatch.setattr(lifecycle, "move_invoice", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        tla_transfer.load_prepared(tla, "anne")
    monkeypatch.undo()
    tla.device.secure(keys[:1], CardType.CPS)

    outcome = tla_transfer.load_prepared(tla, "anne", invoice_ids=[prepared[1].id])
    assert outcome.loaded == keys[1:2]
    outcome = tla_transfer.unload(tla, "anne")
    assert outcome.validated == keys[:1]
    first = fresh(prepared[0])
    assert first.state == "VALIDEE" and first.tla_key == keys[0]
    assert [t[2] for t in transitions_of(first)] == [
        "create",
        "prepare",
        "load_tla",
        "unload_secured",
    ]
    # Secured on the device, still « À charger » at the desk: a load skips it, no CONFLICT.
    tla.device.secure(keys[2:3], CardType.CPS)
    outcome = tla_transfer.load_prepared(tla, "anne")
    assert sorted(outcome.loaded) == sorted(keys[2:])


class EraseFails(EmulatedPortableReader):
    def __init__(self, state_file, error: BaseException) -> None:
        super().__init__(state_file)
        self.error = error

    def erase(self, keys):
        raise self.error


def test_crash_after_commit_before_erase_then_rerun(prepared, state_file) -> None:
    tla = EmulatedPortableReader(state_file)
    tla_transfer.load_prepared(tla, "anne")
    keys = keys_of(prepared)
    tla.device.secure(keys[:3], CardType.CPS)

    with pytest.raises(Crash):
        tla_transfer.unload(EraseFails(state_file, Crash()), "anne")
    assert [fresh(i).state for i in prepared[:3]] == ["VALIDEE"] * 3  # committed
    assert len(on_device(tla)) == 4  # nothing erased

    lost = tla_transfer.unload(EraseFails(state_file, TlaLineLost("Liaison perdue.")), "anne")
    assert lost.already == keys[:3] and lost.erase_error.startswith("Liaison perdue.")
    assert "relancez « Décharger »" in lost.erase_error

    outcome = tla_transfer.unload(tla, "anne")
    assert (outcome.validated, outcome.already, outcome.erased) == ([], keys[:3], keys[:3])
    assert on_device(tla) == {keys[3]: DeviceState.LOADED}
    for invoice in prepared[:3]:  # committed once
        assert [t[2] for t in transitions_of(invoice)].count("unload_secured") == 1


def test_device_full_changes_nothing(prepared, state_file) -> None:
    tla = EmulatedPortableReader(state_file, capacity=3)
    with pytest.raises(TlaDeviceFull, match="Mémoire du lecteur pleine"):
        tla_transfer.load_prepared(tla, "anne")
    assert on_device(tla) == {}
    assert {fresh(i).state for i in prepared} == {"A_CHARGER"}
    assert all(t[2] != "load_tla" for i in prepared for t in transitions_of(i))
    # Fewer invoices fit.
    outcome = tla_transfer.load_prepared(tla, "anne", invoice_ids=[i.id for i in prepared[:3]])
    assert len(outcome.loaded) == 3


def test_cancel_preparation_erases_from_the_device_first(prepared, tla, monkeypatch) -> None:
    keys = keys_of(prepared)
    monkeypatch.setattr(lifecycle, "move_invoice", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):  # on the device, the desk still « À charger »
        tla_transfer.load_prepared(tla, "anne")
    monkeypatch.undo()
    tla.device.secure(keys[1:2], CardType.CPS)

    outcome = tla_transfer.cancel_preparation_on_device(
        tla, [prepared[0].id, prepared[1].id], "anne"
    )
    assert [i.id for i in outcome.done] == [prepared[0].id]
    assert "déchargez le lecteur" in outcome.refused[0][1]
    assert keys[0] not in on_device(tla) and keys[1] in on_device(tla)
    first = fresh(prepared[0])
    assert (first.state, first.tla_key) == ("SAISIE", None)

    with pytest.raises(RefusedOperation, match="Aucune facture"):
        tla_transfer.cancel_preparation_on_device(tla, [], "anne")
    outcome = tla_transfer.cancel_preparation_on_device(tla, [prepared[0].id], "anne")
    assert "seule une facture « À charger »" in outcome.refused[0][1]


def test_erasing_refuses_to_strand_a_loaded_invoice(prepared, tla) -> None:
    keys = keys_of(prepared)
    tla_transfer.load_prepared(tla, "anne")
    with pytest.raises(RefusedOperation, match="bloquerait"):
        tla_transfer.erase_from_device(tla, keys[:1])
    with pytest.raises(RefusedOperation, match="bloquerait"):
        tla_transfer.erase_all_from_device(tla)
    assert len(on_device(tla)) == 4
    # A stray key (unknown to the desk) can go.
    stray = InvoiceToLoad("999999999-000000001", "000000001", "INCONNU", 100, {})
    tla.load([stray])
    assert tla_transfer.erase_from_device(tla, [stray.key]) == [stray.key]


def test_unknown_or_moved_invoices_stay_on_the_device(prepared, tla) -> None:
    keys = keys_of(prepared)
    stray = InvoiceToLoad("999999999-000000001", "000000001", "INCONNU", 100, {})
    tla.load([stray])
    tla_transfer.load_prepared(tla, "anne", invoice_ids=[prepared[0].id])
    # Cancelled at another desk without the device (« invoice unprepare »): back in Saisie.
    invoice_service.cancel_preparation(prepared[1].id, user="autre")
    tla.load([tla_transfer.to_load(fresh(prepared[1]))])
    tla.device.secure(None, CardType.CPS)

    outcome = tla_transfer.unload(tla, "anne")
    assert outcome.validated == keys[:1]
    reasons = dict(outcome.rejected)
    assert "inconnue de ce poste" in reasons[stray.key]
    assert "à l'état « Saisie »" in reasons[keys[1]]
    assert set(on_device(tla)) == {stray.key, keys[1]}


def test_cli_load_unload_unprepare(prepared, state_file, db_url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TUIBILL_CONFIG", "")
    port = f"emulated:{state_file}"
    keys = keys_of(prepared)

    def tuibill(*args: str) -> int:
        return main(["--db", db_url, "--user", "cli", "tla", *args, "--port", port])

    assert tuibill("load", str(prepared[0].id), str(prepared[1].id), "--json") == 0
    assert json.loads(capsys.readouterr().out)["chargees"] == keys[:2]
    assert tuibill("load", "--practitioner", prepared[3].practitioner.am_number) == 0
    assert "1 facture(s) chargée(s)" in capsys.readouterr().out
    assert tuibill("unprepare", str(prepared[2].id)) == 0
    assert "préparation annulée" in capsys.readouterr().out
    assert fresh(prepared[2]).state == "SAISIE"

    assert main(["emulate", "tla", "secure", "--state", str(state_file), "--key", keys[0]]) == 0
    capsys.readouterr()
    assert tuibill("unload", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["validees"] == keys[:1] and data["effacees"] == keys[:1]
    assert sorted(data["non_securisees"]) == sorted([keys[1], keys[3]])
    assert tuibill("unload") == 0
    assert "pas encore sécurisée(s)" in capsys.readouterr().out


# --- Protocol version 2: the device's signature ----------------------------------------------------


def test_secured_in_the_device_then_in_a_lot(prepared, tla) -> None:
    """CPS at the patient's home → « Validée » with a verifying signature; CPE → « À
    sécuriser », then the exécutant's CPS at the desk → « Validée »; both go in a lot."""
    keys = keys_of(prepared)
    tla_transfer.load_prepared(tla, "anne", invoice_ids=[i.id for i in prepared[:2]])
    assert tla.identify().protocol_version == 2
    assert tla.device.stored()[0].content["signing_payload"]
    tla.device.secure(keys[:1], CardType.CPS)
    tla.device.secure(keys[1:2], CardType.CPE)

    outcome = tla_transfer.unload(tla, "anne")
    assert (outcome.validated, outcome.to_secure, outcome.notes) == (keys[:1], keys[1:2], [])
    validated, semi = fresh(prepared[0]), fresh(prepared[1])
    assert validated.signature_algorithm == "sha256WithRSAEncryption"
    assert validated.signer == "Claire DUBOIS (281234567)"  # the demo CPS in the device
    received = through_a_lot(validated)
    assert received.signature.signer == "281234567" and received.mode.value == "sesam_vitale"

    assert semi.signer == "Julie PETIT (281234567)" and securing.verify_invoice_signature(semi)
    desk = EmulatedCardReader.demo()
    done = securing.secure_invoices([semi.id], reader=desk, pin="1234", user="anne")
    assert done.refused == []
    semi = fresh(prepared[1])
    assert (semi.state, semi.signer) == ("VALIDEE", "Claire DUBOIS (281234567)")
    assert semi.signing_card.startswith("CPS ") and "TLA" not in semi.signing_card
    through_a_lot(semi)
    assert [t[2] for t in transitions_of(semi)] == [
        "create",
        "prepare",
        "load_tla",
        "unload_semi_secured",
        "secure",
    ]


def test_a_device_signature_that_does_not_verify_stays_on_the_device(
    prepared, tla, state_file
) -> None:
    keys = keys_of(prepared)
    tla_transfer.load_prepared(tla, "anne", invoice_ids=[i.id for i in prepared[:2]])
    # The patient's first name fixed at the desk after the load: the device signs the old FSE.
    patient = Patient.get_by_id(prepared[0].patient_id)
    Patient.update(first_name="Sophia").where(Patient.id == patient.id).execute()
    tla.device.secure(keys[:2], CardType.CPS)
    outcome = tla_transfer.unload(tla, "anne")
    assert outcome.committed == [] and set(on_device(tla)) == set(keys[:2])
    reasons = dict(outcome.rejected)
    assert "n'est plus celui de la facture au poste" in reasons[keys[0]]
    assert {fresh(i).state for i in prepared[:2]} == {"CHARGEE_TLA"}
    assert fresh(prepared[0]).signature == ""

    # A signature damaged in the device: refused as such.
    Patient.update(first_name=patient.first_name).where(Patient.id == patient.id).execute()
    memory = json.loads(state_file.read_text(encoding="utf-8"))
    signature = memory["invoices"][0]["securing"]["signature"]
    value = bytearray(base64.b64decode(signature["value"]))
    value[0] ^= 0xFF
    signature["value"] = base64.b64encode(bytes(value)).decode("ascii")
    state_file.write_text(json.dumps(memory), encoding="utf-8")
    outcome = tla_transfer.unload(tla, "anne")
    assert outcome.validated == keys[1:2]
    assert "ne se vérifie pas avec le certificat" in dict(outcome.rejected)[keys[0]]
    assert fresh(prepared[0]).state == "CHARGEE_TLA" and keys[0] in on_device(tla)


@pytest.mark.parametrize("side", ["device", "desk"])
def test_without_a_device_signature_the_cps_signs_at_the_desk(prepared, state_file, side) -> None:
    """A version-1 device (or a version-1 desk) gets no signature back: the invoice secured
    with a CPS at the patient's home goes « À sécuriser » for the exécutant's CPS."""
    if side == "device":
        tla = EmulatedPortableReader(state_file, versions=(1,))
    else:
        tla = EmulatedPortableReader(state_file, desk_versions=(1,))
    assert tla.identify().protocol_version == 1
    keys = keys_of(prepared)
    tla_transfer.load_prepared(tla, "anne", invoice_ids=[prepared[0].id])
    tla.device.secure(keys[:1], CardType.CPS)
    outcome = tla_transfer.unload(tla, "anne")
    assert (outcome.validated, outcome.to_secure) == ([], keys[:1])
    assert "sans signature" in outcome.notes[0][1] and on_device(tla) == {}
    invoice = fresh(prepared[0])
    assert (invoice.state, invoice.signature, invoice.secured_with_vitale) == (
        "A_SECURISER",
        "",
        True,
    )
    assert invoice.signer == "Claire DUBOIS" and invoice.signing_card.startswith("CPS (TLA EMU")
    desk = EmulatedCardReader.demo()
    assert securing.secure_invoices([invoice.id], reader=desk, pin="1234", user="anne").done
    through_a_lot(fresh(prepared[0]))


def test_another_ps_cps_in_the_device_leaves_it_to_secure(prepared, tla) -> None:
    keys = keys_of(prepared)
    other = prepared[3]  # the other nurse's invoice, secured with the demo CPS (Claire DUBOIS)
    tla_transfer.load_prepared(tla, "anne", invoice_ids=[other.id])
    tla.device.secure(None, CardType.CPS)
    outcome = tla_transfer.unload(tla, "anne")
    assert outcome.to_secure == keys[3:] and outcome.validated == []
    assert "n'est pas celle de l'exécutant (BRUNET Karim" in outcome.notes[0][1]
    assert fresh(other).state == "A_SECURISER"


def test_an_invoice_that_could_never_be_signed_is_not_loaded(setup, tla) -> None:
    no_caisse = patients.create_patient(card_person(1))  # no caisse on file
    invoice = draft(setup, no_caisse)
    invoice_service.prepare(invoice.id, user="anne")
    outcome = tla_transfer.load_prepared(tla, "anne")
    assert outcome.loaded == [] and "pas de caisse AMO" in outcome.refused[0][1]
    assert on_device(tla) == {} and fresh(invoice).state == "A_CHARGER"


def test_a_month_of_daily_visits_fits_in_one_load(setup, tla) -> None:
    """30 home visits (AMI + IFD: 60 lines, each also a record of the signing payload)."""
    patient = add_patient(card_person(0), setup.organism)
    today = date.today()
    acts = [
        Act(
            act_date=today - timedelta(days=k), code="AMI", act_time=time(10), home_visit=True
        )
        for k in range(1, 31)
    ]
    invoice = invoice_service.create_invoice(setup.nurse.id, patient.id, acts, user="anne")
    invoice_service.prepare(invoice.id, user="anne")
    outcome = tla_transfer.load_prepared(tla, "anne")
    assert outcome.refused == [] and len(outcome.loaded) == 1
    tla.device.secure(None, CardType.CPS)
    assert tla_transfer.unload(tla, "anne").validated == outcome.loaded
    through_a_lot(fresh(invoice))
