"""The bank side: accounts, the statements imported, their lines, the matches with the receipts
announced (NOEMIE virements, tiers-payeurs' règlements), the matches' history, and the
reconciliation rules (data, in order)."""

from __future__ import annotations

import peewee

from tuibill.models.base import BaseModel
from tuibill.models.mail import ReceivedFile


class BankAccount(BaseModel):
    """One account of the practice, known by its IBAN (checked) or its French RIB numbers."""

    account_key = peewee.CharField(max_length=64, unique=True)  # IBAN, else bank/branch/account
    iban = peewee.CharField(max_length=34, null=True)
    bank_code = peewee.CharField(max_length=5, default="")
    branch_code = peewee.CharField(max_length=5, default="")
    account_number = peewee.CharField(max_length=34, default="")
    currency = peewee.CharField(max_length=3, default="EUR")
    label = peewee.CharField(default="")
    created_at = peewee.DateTimeField()


class AccountStatement(BaseModel):
    """One statement of a file (a file may hold several), as the bank gave it."""

    account = peewee.ForeignKeyField(BankAccount, backref="statements")
    received_file = peewee.ForeignKeyField(ReceivedFile, backref="statements", on_delete="CASCADE")
    position = peewee.SmallIntegerField(default=1)  # its rank in the file
    format = peewee.CharField(max_length=12)  # cfonb120 / camt.053 / ofx
    statement_ref = peewee.CharField(default="")  # the bank's identifier, when it gives one
    opening_date = peewee.DateField(null=True)
    opening_balance_cents = peewee.BigIntegerField(null=True)
    closing_date = peewee.DateField(null=True)
    closing_balance_cents = peewee.BigIntegerField(null=True)
    line_count = peewee.IntegerField(default=0)  # lines in the statement
    new_line_count = peewee.IntegerField(default=0)  # of which not already known (overlap)
    imported_at = peewee.DateTimeField()
    imported_by = peewee.CharField(default="")

    class Meta:
        indexes = ((("account", "closing_date"), False),)


class BankOperation(BaseModel):
    """One bank line, stored once however many statements carry it (its ``unique_key``)."""

    account = peewee.ForeignKeyField(BankAccount, backref="operations")
    statement = peewee.ForeignKeyField(AccountStatement, backref="operations")  # the first one
    unique_key = peewee.CharField(max_length=64)
    booking_date = peewee.DateField()
    value_date = peewee.DateField(null=True)
    amount_cents = peewee.BigIntegerField()  # signed: credit > 0
    label = peewee.CharField(default="")
    reference = peewee.CharField(default="")
    counterparty = peewee.CharField(default="")
    details = peewee.TextField(default="")  # « qualifier: text » lines, as the bank gave them
    bank_ref = peewee.CharField(default="")
    operation_code = peewee.CharField(max_length=32, default="")

    class Meta:
        indexes = (
            (("account", "unique_key"), True),
            (("booking_date", "id"), False),
        )


class MatchRule(BaseModel):
    """A reconciliation rule (``domain.bank_matching.Rule``), tried in ``position`` order."""

    position = peewee.IntegerField()
    name = peewee.CharField()
    kind = peewee.CharField(max_length=16, default="")
    label_contains = peewee.CharField(default="")
    label_regex = peewee.CharField(default="")
    receipt_label = peewee.BooleanField(default=False)
    partner = peewee.BooleanField(default=False)
    tolerance_cents = peewee.IntegerField(default=0)
    days_before = peewee.IntegerField(default=2)
    days_after = peewee.IntegerField(default=10)
    active = peewee.BooleanField(default=True)


ACTIVE, UNDONE = "actif", "annule"


class BankMatch(BaseModel):
    """A bank line matched to a receipt of one source (« virement », « reglement »…)."""

    operation = peewee.ForeignKeyField(BankOperation, backref="matches")
    kind = peewee.CharField(max_length=16)
    receipt_id = peewee.BigIntegerField()  # the record in that source (Virement.id…)
    expected_cents = peewee.BigIntegerField()  # what the source announced
    amount_cents = peewee.BigIntegerField()  # what reached the bank
    difference_cents = peewee.BigIntegerField(default=0)  # bank − announced
    rule = peewee.ForeignKeyField(MatchRule, null=True, on_delete="SET NULL")
    rule_name = peewee.CharField(default="")  # « à la main » when matched by hand
    state = peewee.CharField(max_length=8, default=ACTIVE)  # actif / annule
    matched_at = peewee.DateTimeField()
    matched_by = peewee.CharField(default="")
    undone_at = peewee.DateTimeField(null=True)
    undone_by = peewee.CharField(default="")
    undo_reason = peewee.CharField(default="")

    class Meta:
        indexes = ((("kind", "receipt_id"), False), (("state", "id"), False))


# A line, and a receipt, is matched once at a time: the database says so too (partial unique
# indexes: SQLite ≥ 3.8 and PostgreSQL), whatever two desks do at the same moment.
BankMatch.add_index(
    BankMatch.index(
        BankMatch.operation,
        unique=True,
        where=(BankMatch.state == ACTIVE),
        name="bank_match_active_operation",
    )
)
BankMatch.add_index(
    BankMatch.index(
        BankMatch.kind,
        BankMatch.receipt_id,
        unique=True,
        where=(BankMatch.state == ACTIVE),
        name="bank_match_active_receipt",
    )
)


class BankMatchEvent(BaseModel):
    """The history of a match (made, undone): who, when, why — chained with the others."""

    match = peewee.ForeignKeyField(BankMatch, backref="events")
    at = peewee.DateTimeField()
    user = peewee.CharField()
    from_state = peewee.CharField(max_length=8, null=True)  # None: the match was made
    to_state = peewee.CharField(max_length=8)
    action = peewee.CharField(max_length=32)  # rapprocher / rapprocher_main / annuler
    reason = peewee.CharField(default="")
    seq = peewee.BigIntegerField(null=True, unique=True)
    hash = peewee.CharField(max_length=64, default="")
