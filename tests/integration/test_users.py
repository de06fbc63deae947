"""Staff accounts: bootstrap, login, roles enforced by the services, the accounts' chained
history, and secrets that never reach the database in clear."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from tuibill.domain.acts import Act
from tuibill.domain.errors import AuthenticationFailed, Forbidden, ValidationError
from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.domain.patients import nir_key
from tuibill.domain.permissions import Family, Role
from tuibill.models import Invoice, db
from tuibill.services import audit, lifecycle, users
from tuibill.services import invoices as invoice_service

PASSWORD = "correct horse"
PIN = "73914682"


@pytest.fixture
def practice_ids(db_url) -> dict[str, int]:
    from tuibill.services import patients, practice

    gautier = practice.create_practitioner("GAUTIER", "Anne", "281234567")
    brunet = practice.create_practitioner("BRUNET", "Karim", "281234568")
    first13 = "1500528123456"
    patient = patients.create_patient(
        patients.PatientInput("Dupuis", "Alain", date(1950, 5, 1), first13 + nir_key(first13))
    )
    return {"gautier": gautier.id, "brunet": brunet.id, "patient": patient.id}


@pytest.fixture
def staff(practice_ids) -> dict[str, int]:
    users.create_user("chef", "Chef du cabinet", Role.ADMINISTRATEUR, PASSWORD, by="admin", pin=PIN)
    users.create_user("accueil", "Accueil", Role.SECRETARIAT, PASSWORD, by="chef")
    users.create_user(
        "a.gautier", "Anne Gautier", Role.PRATICIEN, PASSWORD, by="chef",
        practitioner_id=practice_ids["gautier"],
    )  # fmt: skip
    return practice_ids


def _invoice(practitioner_id: int, patient_id: int, user: str) -> Invoice:
    day = date.today() - timedelta(days=2)
    return invoice_service.create_invoice(
        practitioner_id, patient_id, [Act(act_date=day, code="AMI")], user=user
    )


def test_a_database_without_accounts_runs_as_the_default_administrator(db_url) -> None:
    assert not users.has_accounts()
    users.require("whoever", Family.USERS)  # bootstrap: every family
    session = users.session_for("")
    assert session.bootstrap and session.login == users.DEFAULT_ADMIN
    assert session.role is Role.ADMINISTRATEUR


def test_the_first_account_is_an_administrateur(db_url) -> None:
    with pytest.raises(ValidationError, match="premier compte"):
        users.create_user("accueil", "", Role.SECRETARIAT, PASSWORD, by="admin")
    users.create_user("chef", "", Role.ADMINISTRATEUR, PASSWORD, by="admin")
    assert users.has_accounts()
    # From then on, a login that is not an account may do nothing.
    with pytest.raises(Forbidden, match="inconnu"):
        users.require("admin", Family.BILLING)


def test_login_with_password_and_unlock_with_pin(staff) -> None:
    session = users.authenticate("CHEF", PASSWORD)
    assert (session.login, session.role, session.has_pin) == ("chef", Role.ADMINISTRATEUR, True)
    with pytest.raises(AuthenticationFailed, match="incorrect"):
        users.authenticate("chef", "wrong password")
    with pytest.raises(AuthenticationFailed, match="incorrect"):
        users.authenticate("nobody", PASSWORD)
    assert users.unlock(session, PIN) and users.unlock(session, PASSWORD)
    assert not users.unlock(session, "0000")
    assert not users.unlock(session, PIN, pin_allowed=False)


def test_bad_input_is_refused_with_its_field(staff) -> None:
    for kwargs, field in (
        ({"login": "A B"}, "login"),
        ({"login": "accueil"}, "login"),  # taken
        ({"password": "short"}, "password"),
        ({"pin": "12"}, "pin"),
        ({"role": "patron"}, "role"),
        ({"role": Role.PRATICIEN}, "practitioner"),  # a praticien without their practitioner
    ):
        values = {"login": "new", "name": "", "role": Role.SECRETARIAT, "password": PASSWORD}
        values.update(kwargs)
        pin = values.pop("pin", "")
        with pytest.raises(ValidationError) as caught:
            users.create_user(**values, by="chef", pin=pin)
        assert caught.value.field == field


def test_roles_are_enforced_by_the_services(staff) -> None:
    invoice = _invoice(staff["gautier"], staff["patient"], "accueil")
    invoice_service.validate(invoice.id, user="accueil")  # the desk's daily work
    with pytest.raises(Forbidden, match="réservée au rôle administrateur"):
        users.create_user("other", "", Role.SECRETARIAT, PASSWORD, by="accueil")
    # An avoir: only a praticien on their own invoices, or an administrateur.
    Invoice.update(state=InvoiceState.TRANSMISE.value).where(Invoice.id == invoice.id).execute()
    invoice = Invoice.get_by_id(invoice.id)
    for login, message in (("accueil", "praticien ou administrateur"),):
        with pytest.raises(Forbidden, match=message):
            lifecycle.move_invoice(invoice, InvoiceAction.CANCEL_TRANSMITTED, user=login, reason="x")
    users.create_user(
        "k.brunet", "", Role.PRATICIEN, PASSWORD, by="chef", practitioner_id=staff["brunet"]
    )
    with pytest.raises(Forbidden, match="propres factures"):
        lifecycle.move_invoice(invoice, InvoiceAction.CANCEL_TRANSMITTED, user="k.brunet", reason="x")
    users.require("a.gautier", Family.CREDIT, practitioner_id=staff["gautier"])
    users.require("chef", Family.CREDIT, practitioner_id=staff["brunet"])


def test_only_an_administrateur_corrects_a_practitioner(staff) -> None:
    """Données › Praticiens (the numbering, the AM number) is the administrateur's."""
    from tuibill.services import practice

    row = practice.get_practitioner(staff["gautier"])
    data = practice.PractitionerInput(
        last_name=row.last_name, first_name=row.first_name, am_number=row.am_number,
        rpps="10001234567",
    )  # fmt: skip
    for login in ("accueil", "a.gautier"):
        with pytest.raises(Forbidden, match="administrateur"):
            practice.save_practitioner(row.id, data, user=login)
    assert practice.save_practitioner(row.id, data, user="chef").rpps == "10001234567"


def test_a_disabled_account_may_do_nothing_and_the_last_admin_stays(staff) -> None:
    users.set_active("accueil", False, by="chef", reason="départ")
    with pytest.raises(AuthenticationFailed, match="désactivé"):
        users.authenticate("accueil", PASSWORD)
    invoice = _invoice(staff["gautier"], staff["patient"], "chef")
    with pytest.raises(Forbidden, match="désactivé"):
        invoice_service.validate(invoice.id, user="accueil")
    with pytest.raises(ValidationError, match="dernier administrateur"):
        users.set_active("chef", False, by="chef")
    with pytest.raises(ValidationError, match="dernier administrateur"):
        users.set_role("chef", Role.SECRETARIAT, by="chef")


def test_own_password_and_pin_anyone_else_is_an_administrateur_s(staff) -> None:
    users.set_password("accueil", "a new password", by="accueil")
    users.set_pin("accueil", "2468", by="accueil")
    assert users.unlock(users.authenticate("accueil", "a new password"), "2468")
    with pytest.raises(Forbidden):
        users.set_password("chef", "another password", by="accueil")


def test_account_changes_join_the_chained_history(staff) -> None:
    users.set_role("accueil", Role.ADMINISTRATEUR, by="chef")
    users.set_password("accueil", "a new password", by="chef")
    users.set_active("accueil", False, by="chef")
    rows = [(r.user, r.from_state, r.to_state, r.action) for r in users.history("accueil")]
    assert rows == [
        ("chef", None, "secretariat", "create"),
        ("chef", "secretariat", "administrateur", "role"),
        ("chef", "administrateur", "administrateur", "password"),
        ("chef", "administrateur", "inactif", "disable"),
    ]
    report = audit.verify()
    assert report.ok and report.rows >= 6
    # Someone rewrites who created an account: the chain names the row.
    db.execute_sql("UPDATE user_transition SET user = 'intrus' WHERE action = 'role'")
    report = audit.verify()
    assert not report.ok and report.table == "user_transition"
    assert "utilisateurs" in report.message


def test_no_secret_reaches_the_database_in_clear(staff, db_url) -> None:
    users.set_pin("a.gautier", PIN, by="a.gautier")
    db.close()
    for path in Path(db_url).parent.glob("tuibill.sqlite*"):
        content = path.read_bytes()
        assert PIN.encode() not in content and PASSWORD.encode() not in content


def test_hashes_use_owasps_setting_and_older_ones_are_remade_at_login(staff) -> None:
    """19 MiB per login instead of argon2-cffi's 64 MiB; a hash of the old default still logs in
    and is remade with today's setting (the same password, no history row)."""
    from argon2 import PasswordHasher

    from tuibill.models import User, UserTransition

    assert users.hash_secret(PASSWORD).startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    old = PasswordHasher().hash(PASSWORD)  # argon2-cffi's default: m=65536,t=3,p=4
    User.update(password_hash=old).where(User.login == "accueil").execute()
    history = UserTransition.select().count()
    assert users.authenticate("accueil", PASSWORD).login == "accueil"
    remade = User.get(User.login == "accueil").password_hash
    assert remade.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert users.authenticate("accueil", PASSWORD).login == "accueil"
    assert UserTransition.select().count() == history
    with pytest.raises(AuthenticationFailed, match="Identifiant ou mot de passe incorrect"):
        users.authenticate("inconnu", PASSWORD)


def test_five_wrong_secrets_block_the_account_for_a_while(staff, monkeypatch) -> None:
    """Each wrong password is in the account's chained history; the fifth within 15 minutes
    blocks it — the right password too — until the time passes or an administrateur sets a new
    password. The lock screen's tries count as well."""
    from datetime import datetime

    clock = [datetime(2026, 12, 6, 9, 0)]
    monkeypatch.setattr(users, "_now", lambda: clock[0])
    for _ in range(users.BLOCK_TRIES - 1):
        with pytest.raises(AuthenticationFailed, match="incorrect"):
            users.authenticate("accueil", "wrong password")
    session = users.authenticate("accueil", PASSWORD)  # four: still allowed
    assert not users.unlock(session, "wrong again")  # the lock screen's fifth
    with pytest.raises(AuthenticationFailed, match="bloqué après 5 essais faux.*15 min"):
        users.authenticate("accueil", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="bloqué"):
        users.unlock(session, PASSWORD)
    actions = [row.action for row in users.history("accueil")]
    assert actions.count(users.FAILED) == 5
    assert audit.verify().ok  # the failures are sealed in the chain

    clock[0] = datetime(2026, 12, 6, 9, 14)
    with pytest.raises(AuthenticationFailed, match="dans 1 min"):
        users.authenticate("accueil", PASSWORD)
    clock[0] = datetime(2026, 12, 6, 9, 15, 1)
    assert users.authenticate("accueil", PASSWORD).login == "accueil"

    for _ in range(users.BLOCK_TRIES):
        with pytest.raises(AuthenticationFailed):
            users.authenticate("accueil", "wrong password")
    with pytest.raises(AuthenticationFailed, match="bloqué"):
        users.authenticate("accueil", PASSWORD)
    users.set_password("accueil", "a fresh password", by="chef")  # the administrateur unblocks
    assert users.authenticate("accueil", "a fresh password").login == "accueil"
