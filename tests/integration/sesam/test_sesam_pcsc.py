"""A full SESAM-Vitale validation through the real stack: pcscd + vpcd + the card emulator.

The command runs as its own process (``tuibill sesam validate --pin-stdin``) bound to a private
pcscd; the Vitale and the CPS are emulated in threads of this process (see tests/support/pcsc.py
for why this process itself never talks PC/SC).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

import pytest

from tests.support.pcsc import private_pcsc, unavailable_reason
from tests.support.sesam import CPS_AM, add_patient, card_person, draft, fresh, other_patient
from tuibill.hardware.cards import Signature, verify_signature
from tuibill.hardware.cards.emulator_cards import demo_cps, demo_vitale
from tuibill.services import securing

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def vpcd():
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with private_pcsc() as cards:
        yield cards


def tuibill(vpcd, config, db_url, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**vpcd.env(), "TUIBILL_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "tuibill", "--db", db_url, "--user", "pcsc", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_validate_with_vitale_and_cps_through_pcscd(vpcd, setup, db_url, tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(vpcd.config())
    patient = add_patient(card_person(0), setup.organism)
    invoice = draft(setup, patient)
    cps = demo_cps(pin="8642")
    vpcd.insert(demo_vitale(), 0)
    vpcd.insert(cps, 1)

    result = tuibill(
        vpcd,
        config,
        db_url,
        "sesam",
        "validate",
        str(invoice.id),
        "--pin-stdin",
        "--wait",
        "20",
        "--json",
        stdin="8642\n",
    )
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)["faites"]
    assert [d["id"] for d in done] == [invoice.id]

    invoice = fresh(invoice)
    assert (invoice.state, invoice.mode) == ("VALIDEE", "sesam_vitale")
    assert invoice.signer == f"Claire DUBOIS ({CPS_AM})"
    # Signed by the very card behind pcscd: its certificate, its key.
    assert base64.b64decode(invoice.signer_certificate) == cps.certificate_der
    signature = Signature(
        base64.b64decode(invoice.signature), cps.certificate_der, invoice.signature_algorithm
    )
    assert verify_signature(securing.signing_payload(invoice), signature)
    assert "8642" not in result.stdout + result.stderr

    # A patient who is not on the card: refused with the reason, exit 1, nothing numbered.
    stranger = draft(setup, other_patient(setup.organism))
    result = tuibill(
        vpcd,
        config,
        db_url,
        "sesam",
        "validate",
        str(stranger.id),
        "--pin-stdin",
        stdin="8642\n",
    )
    assert result.returncode == 1
    assert "ne porte pas DUPUIS Alain" in result.stderr
    assert fresh(stranger).number is None
    assert os.environ.get("PCSCLITE_CSOCK_NAME") != str(vpcd.stack.socket_path)
