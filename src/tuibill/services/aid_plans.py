"""Plans d'aide (seed 004): made from the payer's default values for the prestation (only those
prestations can be chosen), changed while « Saisi », then « Validé » — the only state that
finances anything — or « Annulé »."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from tuibill.domain import aid_plans
from tuibill.domain.errors import IllegalTransition, NotFound, ValidationError
from tuibill.domain.formatting import format_rate
from tuibill.models import AidPlan, Client, ContractLine, Payer
from tuibill.models.database import immediate

# The payers' services are imported where used: the month's billing (``tuibill billing create``)
# imports this module for the plans alone.


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def to_domain(plan: AidPlan, payer_name: str | None = None) -> aid_plans.AidPlan:
    return aid_plans.AidPlan(
        beneficiary_id=plan.client_id,
        payer_id=plan.payer_id,
        payer_name=payer_name or plan.payer.name,
        prestation=plan.prestation,
        valid_from=plan.valid_from,
        monthly_minutes=plan.monthly_minutes,
        rates=aid_plans.HourlyRates(plan.base_cents, plan.saturday_cents, plan.sunday_cents),
        pec_bp=plan.pec_bp,
        billing_mode=aid_plans.BillingMode(plan.billing_mode),
        state=aid_plans.PlanState(plan.state),
        valid_until=plan.valid_until,
        sunday_pec_bp=plan.sunday_pec_bp,
        sunday_cap_minutes=plan.sunday_cap_minutes,
        plan_id=plan.id,
    )


def plans_of_client(client_id: int) -> list[aid_plans.AidPlan]:
    return plans_of_clients([client_id]).get(client_id, [])


def plans_of_clients(client_ids: list[int]) -> dict[int, list[aid_plans.AidPlan]]:
    """The plans of many clients in a few queries (a month's billing of every client)."""
    found: dict[int, list[aid_plans.AidPlan]] = {}
    # Plain rows, not models: a month's billing reads thousands of plans.
    modes = {mode.value: mode for mode in aid_plans.BillingMode}
    states = {state.value: state for state in aid_plans.PlanState}
    for start in range(0, len(client_ids), 500):  # SQLite's bound-parameter limit
        query = (
            AidPlan.select(
                AidPlan.client, AidPlan.payer, Payer.name, AidPlan.prestation,
                AidPlan.valid_from, AidPlan.monthly_minutes, AidPlan.base_cents,
                AidPlan.saturday_cents, AidPlan.sunday_cents, AidPlan.pec_bp,
                AidPlan.billing_mode, AidPlan.state, AidPlan.valid_until, AidPlan.sunday_pec_bp,
                AidPlan.sunday_cap_minutes, AidPlan.id,
            )
            .join(Payer)
            .where(AidPlan.client.in_(client_ids[start : start + 500]))
            .order_by(AidPlan.valid_from, AidPlan.id)
            .tuples()
        )  # fmt: skip
        for (client_id, payer_id, payer_name, prestation, valid_from, minutes, base, saturday,
             sunday, pec_bp, mode, state, valid_until, sunday_pec_bp, sunday_cap,
             plan_id) in query:  # fmt: skip
            found.setdefault(client_id, []).append(
                aid_plans.AidPlan(
                    beneficiary_id=client_id, payer_id=payer_id, payer_name=payer_name,
                    prestation=prestation, valid_from=valid_from, monthly_minutes=minutes,
                    rates=aid_plans.HourlyRates(base, saturday, sunday), pec_bp=pec_bp,
                    billing_mode=modes[mode], state=states[state], valid_until=valid_until,
                    sunday_pec_bp=sunday_pec_bp, sunday_cap_minutes=sunday_cap, plan_id=plan_id,
                )  # fmt: skip
            )
    return found


def prestations_offered(payer_id: int) -> list[str]:
    """« Seules les prestations pour lesquelles des valeurs par défaut ont été définies »."""
    from tuibill.services.payers import defaults_of

    return sorted(defaults_of(payer_id))


def create_plan(
    client_id: int,
    payer_id: int,
    prestation: str,
    valid_from: date,
    *,
    valid_until: date | None = None,
    reference: str = "",
    changes: dict | None = None,
) -> AidPlan:
    """A plan « Saisi » with the payer's defaults for *prestation*, *changes* applied
    (``PlanValues`` field names)."""
    from tuibill.domain.payers import check_plan_prestation
    from tuibill.services.payers import defaults_of, get_payer

    payer = get_payer(payer_id)
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        raise NotFound(f"Client {client_id} introuvable.")
    code = prestation.strip().upper()
    defaults = defaults_of(payer.id)
    check_plan_prestation(payer.name, code, defaults)
    if not ContractLine.select().where(
        (ContractLine.client == client.id) & (ContractLine.prestation == code)
    ).exists():
        raise ValidationError(
            f"La prestation « {code} » n'est pas au contrat de {client.display_name}.",
            field="prestation",
        )
    values = replace(defaults[code], **(changes or {}))
    values.check()
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError("La fin de validité précède le début.", field="valid_until")
    with immediate():
        return AidPlan.create(
            client=client.id, payer=payer.id, prestation=code, reference=reference.strip(),
            valid_from=valid_from, valid_until=valid_until,
            monthly_minutes=values.monthly_minutes, base_cents=values.rates.base_cents,
            saturday_cents=values.rates.saturday_cents,
            sunday_cents=values.rates.sunday_holiday_cents, pec_bp=values.pec_bp,
            sunday_pec_bp=values.sunday_pec_bp, sunday_cap_minutes=values.sunday_cap_minutes,
            billing_mode=values.billing_mode, state=aid_plans.PlanState.SAISI.value,
            created_at=now(),
        )  # fmt: skip


def get_plan(plan_id: int) -> AidPlan:
    plan = AidPlan.get_or_none(AidPlan.id == plan_id)
    if plan is None:
        raise NotFound(f"Plan d'aide {plan_id} introuvable.")
    return plan


def update_plan(plan_id: int, *, valid_until: date | None = None, **changes) -> AidPlan:
    """Change a plan « Saisi » (a validated one only gets an end of validity, to renew it)."""
    from tuibill.services.payers import PlanValues

    with immediate():
        plan = get_plan(plan_id)
        if plan.state != aid_plans.PlanState.SAISI.value and changes:
            raise IllegalTransition(
                "Un plan validé ne se modifie plus : donnez-lui une fin de validité et créez-en "
                "un nouveau."
            )
        current = PlanValues(
            plan.monthly_minutes,
            aid_plans.HourlyRates(plan.base_cents, plan.saturday_cents, plan.sunday_cents),
            plan.pec_bp, plan.billing_mode, plan.sunday_pec_bp, plan.sunday_cap_minutes,
        )  # fmt: skip
        values = replace(current, **changes)
        values.check()
        if valid_until is not None:
            if valid_until < plan.valid_from:
                raise ValidationError("La fin de validité précède le début.", field="valid_until")
            plan.valid_until = valid_until
        plan.monthly_minutes = values.monthly_minutes
        plan.base_cents = values.rates.base_cents
        plan.saturday_cents = values.rates.saturday_cents
        plan.sunday_cents = values.rates.sunday_holiday_cents
        plan.pec_bp, plan.billing_mode = values.pec_bp, values.billing_mode
        plan.sunday_pec_bp, plan.sunday_cap_minutes = values.sunday_pec_bp, values.sunday_cap_minutes
        plan.save()
        if plan.state == aid_plans.PlanState.VALIDE.value:
            aid_plans.check_plan_overlaps(plans_of_client(plan.client_id))
        return plan


def validate_plan(plan_id: int) -> AidPlan:
    """« Valider »: only a validated plan counts; two validated plans of one prestation for one
    client may not share a day."""
    with immediate():
        plan = get_plan(plan_id)
        if plan.state != aid_plans.PlanState.SAISI.value:
            raise IllegalTransition(
                f"Le plan est « {aid_plans.PlanState(plan.state).label} » : seul un plan saisi "
                "se valide."
            )
        others = [p for p in plans_of_client(plan.client_id) if p.plan_id != plan.id]
        aid_plans.check_plan_overlaps(
            [*others, replace(to_domain(plan), state=aid_plans.PlanState.VALIDE)]
        )
        plan.state = aid_plans.PlanState.VALIDE.value
        plan.save()
        return plan


def cancel_plan(plan_id: int) -> AidPlan:
    with immediate():
        plan = get_plan(plan_id)
        if plan.state == aid_plans.PlanState.ANNULE.value:
            raise IllegalTransition("Le plan est déjà annulé.")
        plan.state = aid_plans.PlanState.ANNULE.value
        plan.save()
        return plan


@dataclass(frozen=True)
class PlanRow:
    id: int
    client_id: int
    client: str
    payer_id: int
    payer: str
    prestation: str
    valid_from: date
    valid_until: date | None
    monthly_minutes: int
    pec_bp: int
    sunday_pec_bp: int | None
    sunday_cap_minutes: int | None
    billing_mode: str
    state: str

    @property
    def state_label(self) -> str:
        return aid_plans.PlanState(self.state).label

    @property
    def summary(self) -> str:
        cap = (
            "tous les jours"
            if self.sunday_cap_minutes is None
            else "lundi–samedi"
            if self.sunday_cap_minutes == 0
            else f"plafond dim./JF {aid_plans.format_duration(self.sunday_cap_minutes)}"
        )
        return (
            f"{aid_plans.format_duration(self.monthly_minutes)}/mois, PEC {format_rate(self.pec_bp)}"
            f", {cap}"
        )

    def as_dict(self) -> dict:
        return {
            "id": self.id, "client": self.client_id, "client_nom": self.client,
            "tiers_payeur": self.payer_id, "tiers_payeur_nom": self.payer,
            "prestation": self.prestation, "debut": self.valid_from, "fin": self.valid_until,
            "heures_minutes": self.monthly_minutes, "taux_pec": self.pec_bp,
            "taux_pec_dimanche": self.sunday_pec_bp, "plafond_dimanche": self.sunday_cap_minutes,
            "mode": aid_plans.BillingMode(self.billing_mode).label,
            "etat": self.state, "etat_libelle": self.state_label,
        }  # fmt: skip


def list_plans(*, client_id: int | None = None, payer_id: int | None = None) -> list[PlanRow]:
    query = AidPlan.select(AidPlan, Client, Payer).join(Client).switch(AidPlan).join(Payer)
    if client_id is not None:
        query = query.where(AidPlan.client == client_id)
    if payer_id is not None:
        query = query.where(AidPlan.payer == payer_id)
    return [
        PlanRow(
            p.id, p.client_id, p.client.display_name, p.payer_id, p.payer.name, p.prestation,
            p.valid_from, p.valid_until, p.monthly_minutes, p.pec_bp, p.sunday_pec_bp,
            p.sunday_cap_minutes, p.billing_mode, p.state,
        )  # fmt: skip
        for p in query.order_by(Client.search_name, AidPlan.valid_from, AidPlan.id)
    ]
