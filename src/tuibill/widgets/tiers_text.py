"""The French texts the Tiers-payeurs screens show in their dialogs: a billing simulation, a
bordereaux simulation, what a bulk validation or a sending did."""

from __future__ import annotations

from collections.abc import Sequence

from tuibill.domain.formatting import format_cents


def euros(cents: int) -> str:
    return f"{format_cents(cents)} €"


def billing_preview_text(previews: Sequence) -> str:
    """« Simuler la facturation »: per client, the totals and the financing detail."""
    lines: list[str] = []
    for preview in previews:
        if preview.billing is None:
            lines.append(f"{preview.client} : {preview.refusal}")
            lines.append("")
            continue
        billing = preview.billing
        lines.append(
            f"{preview.client} — {preview.month:02d}/{preview.year} : total "
            f"{euros(billing.amount_cents)}, dû organismes {euros(billing.payer_cents)}, "
            f"dû client {euros(billing.client_cents)}"
        )
        for usage in billing.usage:
            lines.append(
                f"  {usage.plan.payer_name} ({usage.plan.prestation}) : "
                f"{usage.financed_minutes // 60} h {usage.financed_minutes % 60:02d} financées, "
                f"{usage.minutes_left // 60} h {usage.minutes_left % 60:02d} restantes"
            )
        lines += [f"    {line.explanation}" for line in billing.lines]
        lines.append("")
    return "\n".join(lines).strip() or "Aucune intervention à facturer sur la période."


def slip_preview_text(plans: Sequence) -> str:
    lines = []
    for plan in plans:
        if plan.refusal:
            lines.append(f"⚠ {plan.payer} : {plan.refusal}")
            continue
        who = plan.beneficiaries[0] if plan.client_id else f"{len(plan.beneficiaries)} bénéficiaire(s)"
        extra = f", avoirs déduits {euros(plan.deductions_cents)}" if plan.deductions_cents else ""
        lines.append(
            f"{plan.payer} — {who} : {len(plan.funding_ids)} ligne(s), {euros(plan.total_cents)}{extra}"
        )
    return "\n".join(lines) or "Aucun bordereau à faire sur la période."


def outcomes_text(outcomes: Sequence) -> str:
    """What a sending (bordereaux or relances) did, payer by payer; ⚠ where it did not go."""
    if not outcomes:
        return "Rien à envoyer."
    return "\n".join(
        f"{'' if outcome.status == 'envoye' else '⚠ '}{outcome.payer} — {outcome.what} : "
        f"{outcome.status_label}. {outcome.message}"
        for outcome in outcomes
    )
