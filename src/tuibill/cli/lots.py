"""``tuibill lots …``: Transmettre and the Journal des lots, headless.

build · list · show · delete · send · receive · check · resolve · received. Every verb takes
``--json``. ``check`` is meant for cron: it uses the real clock (``faketime`` works on it).
"""

from __future__ import annotations

import argparse
import sys

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_record, print_table
from tuibill.domain.formatting import format_cents, format_when

LOT_HELP = "le lot : son identifiant (colonne Id) ou AM/NUMÉRO, ex. 281234567/695"


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "lots", parents=[common], help="lots de FSE et SCOR : préparer, transmettre, ARL"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    build = verbs.add_parser(
        "build", parents=[common], help="mettre les factures validées en lots (À transmettre)"
    )
    build.add_argument("--practitioner", help="numéro AM ou identifiant du praticien")
    build.add_argument(
        "--invoice", type=arguments.identifier, nargs="+", metavar="ID", help="seulement ces factures"
    )
    build.add_argument("--json", action="store_true")
    build.set_defaults(handler=cmd_build)

    ls = verbs.add_parser(
        "list", parents=[common], help="le Journal des lots (plus récents d'abord)"
    )
    ls.add_argument("--state", help="état (A_TRANSMETTRE, EN_COURS, … ou libellé)")
    ls.add_argument("--kind", choices=("FSE", "SCOR"), help="type de lot")
    ls.add_argument("--practitioner", help="numéro AM ou identifiant du praticien")
    ls.add_argument("--caisse", help="régime + caisse, ex. 01281")
    ls.add_argument("--number", type=arguments.lot_number, help="numéro de lot")
    ls.add_argument("--since", type=arguments.day, metavar="JJ/MM/AAAA", help="créés depuis")
    ls.add_argument("--until", type=arguments.day, metavar="JJ/MM/AAAA", help="créés jusqu'au")
    ls.add_argument("--limit", type=arguments.bounded(1, 1_000_000), default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = verbs.add_parser(
        "show", parents=[common], help="un lot : factures, historique, ARL ; liste papier"
    )
    show.add_argument("lot", metavar="LOT", help=LOT_HELP)
    output = show.add_mutually_exclusive_group()
    output.add_argument("--print", action="store_true", help="liste imprimable pour l'envoi papier")
    output.add_argument("--csv", action="store_true", help="la même liste en CSV (;)")
    output.add_argument("--json", action="store_true")
    show.add_argument("--output", metavar="FICHIER", help="écrire --print ou --csv dans ce fichier")
    show.set_defaults(handler=cmd_show)

    delete = verbs.add_parser(
        "delete", parents=[common], help="supprimer un lot pas encore envoyé (factures → Validée)"
    )
    delete.add_argument("lot", metavar="LOT", help=LOT_HELP)
    delete.add_argument("--reason", default="", help="motif inscrit dans l'historique")
    delete.add_argument("--json", action="store_true")
    delete.set_defaults(handler=cmd_delete)

    send = verbs.add_parser(
        "send", parents=[common], help="envoyer par SMTP les lots à transmettre (et à renvoyer)"
    )
    send.add_argument("lots", nargs="*", metavar="LOT", help="ces lots seulement ; " + LOT_HELP)
    send.add_argument("--json", action="store_true")
    send.set_defaults(handler=cmd_send)

    receive = verbs.add_parser(
        "receive", parents=[common], help="relever les ARL (POP3, IMAP ou dossier) et les appliquer"
    )
    receive.add_argument("--json", action="store_true")
    receive.set_defaults(handler=cmd_receive)

    check = verbs.add_parser(
        "check",
        parents=[common],
        help="pour cron : relever les ARL, appliquer les délais (48 h), renvoyer une fois",
    )
    check.add_argument("--no-receive", action="store_true", help="ne pas relever les ARL d'abord")
    check.add_argument("--no-resend", action="store_true", help="ne pas renvoyer les lots")
    check.add_argument(
        "--quiet", action="store_true", help="ne rien écrire sauf ce qui demande une intervention"
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_check)

    resolve = verbs.add_parser(
        "resolve", parents=[common], help="décider d'un lot « En cours » (envoi incertain)"
    )
    resolve.add_argument("lot", metavar="LOT", help=LOT_HELP)
    decision = resolve.add_mutually_exclusive_group(required=True)
    decision.add_argument("--sent", action="store_true", help="il est parti : Transmis")
    decision.add_argument("--not-sent", action="store_true", help="il n'est pas parti : à renvoyer")
    resolve.add_argument("--reason", default="", help="ce qui fonde la décision")
    resolve.add_argument("--json", action="store_true")
    resolve.set_defaults(handler=cmd_resolve)

    received = verbs.add_parser(
        "received", parents=[common], help="les fichiers reçus des caisses (ARL…), archivés"
    )
    received.add_argument(
        "--flagged", action="store_true", help="seulement les refusés et les sans effet"
    )
    received.add_argument("--limit", type=arguments.bounded(1, 1_000_000), default=50)
    received.add_argument("--json", action="store_true")
    received.set_defaults(handler=cmd_received)


# --- helpers ----------------------------------------------------------------------------------


def _lot_rows(lots) -> list[list[object]]:
    return [
        [
            lot.id,
            lot.kind,
            lot.number_text,
            lot.state_label,
            lot.practitioner_am,
            lot.destination,
            lot.invoice_count if lot.kind == "FSE" else f"{lot.piece_count} p.",
            format_cents(lot.total_cents) if lot.kind == "FSE" else "",
            format_when(lot.created_at),
            format_when(lot.sent_at),
            lot.send_count,
        ]
        for lot in lots
    ]


LOT_HEADERS = [
    "Id", "Type", "Lot", "État", "PS", "Caisse", "Factures", "Total", "Créé le", "Envoyé le",
    "Envois",
]  # fmt: skip


def _find(reference: str):
    from tuibill.services.lot_views import find_lot

    return find_lot(reference)


def _state(text: str):
    from tuibill.domain.errors import ValidationError
    from tuibill.domain.lots import STATE_LABELS, LotState

    wanted = text.strip()
    by_label = {label.lower(): state for state, label in STATE_LABELS.items()}
    state = by_label.get(wanted.lower())
    if state is None and wanted.upper() in LotState.__members__:
        state = LotState(wanted.upper())
    if state is None:
        raise ValidationError(
            f"État de lot « {wanted} » inconnu (possibles : {', '.join(s.value for s in LotState)})."
        )
    return state


# --- verbs ------------------------------------------------------------------------------------


def cmd_build(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.lots import build_lots
    from tuibill.services.practice import find_practitioner

    ctx.open_db()
    practitioner_id = find_practitioner(args.practitioner).id if args.practitioner else None
    report = build_lots(
        ctx.settings.transmission,
        user=ctx.user,
        invoice_ids=args.invoice,
        practitioner_id=practitioner_id,
    )
    if ctx.json:
        print_json(report.as_dict())
    elif report.lots:
        print_table(LOT_HEADERS, _lot_rows(report.lots))
    else:
        print("Aucun lot à préparer : pas de facture validée à mettre en lot.")
    for warning in report.warnings:
        error(f"attention : {warning}")
    for item in report.skipped:
        error(f"facture {item.invoice_id} écartée : {item.reason}")
    return 1 if report.skipped else 0


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.lot_journal import LotFilter, LotJournalQuery
    from tuibill.services.practice import find_practitioner

    ctx.open_db()
    flt = LotFilter(
        state=_state(args.state) if args.state else None,
        kind=args.kind,
        practitioner_id=find_practitioner(args.practitioner).id if args.practitioner else None,
        destination=args.caisse,
        number=args.number,
        since=args.since,
        until=args.until,
    )
    query = LotJournalQuery(flt)
    rows = query.page_after(None, args.limit)
    if ctx.json:
        print_json({"total": query.count(), "lots": [row.as_dict() for row in rows]})
        return
    if not rows:
        print("Aucun lot.")
        return
    print_table(
        ["Id", "Type", "Lot", "État", "PS", "Caisse", "Factures", "Total", "Créé le",
         "Envoyé le", "Envois", "Motif / erreur"],
        [
            [row.id, row.kind, row.number_text, row.state_label, row.practitioner_am,
             row.destination,
             row.invoice_count if row.kind == "FSE" else f"{row.piece_count} p.",
             format_cents(row.total_cents) if row.kind == "FSE" else "", format_when(row.created_at),
             format_when(row.sent_at), row.send_count, (row.arl_reason or row.last_error)[:60]]
            for row in rows
        ],
    )  # fmt: skip


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.lot_views import lot_detail
    from tuibill.services.paper_lists import paper_list

    ctx.open_db()
    lot = _find(args.lot)
    if args.print or args.csv:
        paper = paper_list(lot.id)
        text = paper.text() if args.print else paper.csv()
        if args.output:
            from pathlib import Path

            Path(args.output).expanduser().write_text(text, encoding="utf-8")
            print(f"Liste du lot {lot.number:03d} écrite dans {args.output}.")
        else:
            sys.stdout.write(text)
        return
    detail = lot_detail(lot.id)
    if ctx.json:
        print_json(detail.as_dict())
        return
    summary = detail.lot
    timeout = ctx.settings.transmission.arl_timeout_hours
    pairs = [
        ("Lot", f"{summary.number_text} ({summary.kind}), id {summary.id}"),
        ("État", summary.state_label),
        ("Praticien", f"{summary.practitioner} ({summary.practitioner_am})"),
        ("Caisse", f"{summary.destination} {summary.organism}".strip()),
        ("Factures", summary.invoice_count),
        ("Total", format_cents(summary.total_cents) if summary.kind == "FSE" else ""),
        ("Fichier", f"{summary.file_name}  sha256 {summary.file_sha256}"),
        ("Créé le", f"{format_when(summary.created_at)} par {summary.created_by}"),
        ("Envois", summary.send_count),
        ("Dernier envoi", format_when(summary.sent_at)),
        ("ARL attendu avant", format_when(summary.arl_deadline(timeout))),
        ("ARL", format_when(summary.arl_at)),
        ("Motif", summary.arl_reason),
        ("Dernière erreur", summary.last_error),
    ]
    if summary.parent_id:
        pairs.append(("Lot de FSE", summary.parent_id))
    print_record([(key, value) for key, value in pairs if value not in ("", None)])
    if detail.file_error:
        error(detail.file_error)
    if detail.invoices:
        print()
        print_table(
            ["Facture", "Date", "Patient", "Total", "État actuel"],
            [
                [f"{item.number:09d}", f"{item.billing_date:%d/%m/%Y}", item.patient,
                 format_cents(item.total_cents),
                 item.state_label + ("" if item.still_in_lot else " (hors du lot)")]
                for item in detail.invoices
            ],
        )  # fmt: skip
    if detail.pieces:
        print()
        print_table(
            ["Facture", "Pièce", "Nature", "Octets"],
            [[f"{p.invoice_number:09d}", p.entry_name, p.kind, p.size] for p in detail.pieces],
        )
    if detail.scor_lots:
        print()
        print(
            "Lots SCOR : "
            + ", ".join(f"{s.number_text} (id {s.id}, {s.state_label})" for s in detail.scor_lots)
        )
    print()
    print_table(
        ["Le", "Par", "De", "Vers", "Action", "Motif"],
        [
            [format_when(h.at), h.user, h.from_state.label if h.from_state else "", h.to_state.label,
             h.action_label, h.reason]
            for h in detail.history
        ],
    )  # fmt: skip


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.lots import delete_lot

    ctx.open_db()
    summary = delete_lot(_find(args.lot).id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(summary.as_dict())
    else:
        print(
            f"Lot {summary.number_text} supprimé : ses {summary.invoice_count} facture(s) "
            "sont de nouveau « Validée »."
        )


def _send_status(report) -> int:
    """2 when a caisse has no address (configuration), 1 when a lot did not go, else 0."""
    from tuibill.services.sending import NOT_CONFIGURED

    if any(outcome.status == NOT_CONFIGURED for outcome in report.outcomes):
        return 2
    return 0 if report.all_sent else 1


def _print_send(report) -> int:
    from tuibill.services.sending import SENT

    for outcome in report.outcomes:
        line = f"Lot {outcome.lot.number_text} (id {outcome.lot.id}) : {outcome.message}"
        if outcome.status == SENT:
            print(line)
        else:
            error(line)
    for lot in report.uncertain:
        error(
            f"lot {lot.number_text} (id {lot.id}) « En cours » : envoi incertain, décidez avec "
            f"« tuibill lots resolve {lot.id} --sent » ou « --not-sent »."
        )
    return _send_status(report)


def cmd_send(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.sending import send_lots

    ctx.open_db()
    ids = [_find(reference).id for reference in args.lots] if args.lots else None
    report = send_lots(ctx.settings.transmission, user=ctx.user, lot_ids=ids)
    if ctx.json:
        print_json(report.as_dict())
        return _send_status(report)
    if not report.outcomes:
        print("Aucun lot à transmettre.")
    return _print_send(report)


def _print_outcomes(outcomes) -> None:
    for outcome in outcomes:
        if outcome.file.flagged:
            error(f"{outcome.file.file_name} : {outcome.message}")
        else:
            print(f"{outcome.file.file_name} : {outcome.message}")


def cmd_receive(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.receiving import receive

    ctx.open_db()
    report = receive(ctx.settings.transmission, user=ctx.user)
    if ctx.json:
        print_json(report.as_dict())
        return
    print(
        f"{report.fetched} message(s) lu(s), {len(report.recorded)} fichier(s) enregistré(s), "
        f"{report.deleted} message(s) supprimé(s) du serveur"
        + (f", {report.left} autre(s) laissé(s)" if report.left else "")
        + "."
    )
    _print_outcomes(report.processed)


def cmd_check(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.lot_check import check

    ctx.open_db()
    report = check(
        ctx.settings.transmission,
        user=ctx.user,
        receive=not args.no_receive,
        resend=not args.no_resend,
    )
    if ctx.json:
        print_json(report.as_dict())
        return 1 if report.failed else 0
    if args.quiet and not report.needs_attention:
        return 0
    if report.received is not None:
        print(
            f"Relevé : {report.received.fetched} message(s), "
            f"{len(report.received.recorded)} fichier(s) enregistré(s)."
        )
        _print_outcomes(report.received.processed)
    _print_outcomes(report.processed)
    for lot in report.timed_out:
        print(f"Lot {lot.number_text} (id {lot.id}) : {lot.arl_reason} → {lot.state_label}.")
    if report.resent is not None:
        _print_send(report.resent)
    else:
        for lot in report.uncertain:
            error(
                f"lot {lot.number_text} (id {lot.id}) « En cours » : envoi incertain, décidez avec "
                f"« tuibill lots resolve {lot.id} --sent » ou « --not-sent »."
            )
    for lot in report.manual:
        error(
            f"lot {lot.number_text} (id {lot.id}) en traitement manuel : "
            f"« tuibill lots show {lot.id} --print » pour l'envoi papier."
        )
    for message in report.errors:
        error(message)
    return 1 if report.failed else 0


def cmd_resolve(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.lots import resolve_uncertain

    ctx.open_db()
    summary = resolve_uncertain(
        _find(args.lot).id, sent=args.sent, user=ctx.user, reason=args.reason
    )
    if ctx.json:
        print_json(summary.as_dict())
    else:
        print(f"Lot {summary.number_text} : {summary.state_label}.")


def cmd_received(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.lot_views import received_files

    ctx.open_db()
    rows = received_files(("refuse", "ignore") if args.flagged else None, limit=args.limit)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    if not rows:
        print("Aucun fichier reçu." if not args.flagged else "Aucun fichier signalé.")
        return
    print_table(
        ["Id", "Reçu le", "Type", "Fichier", "Statut", "Lot", "Motif"],
        [
            [row.id, format_when(row.received_at), row.kind, row.file_name, row.status_label,
             row.lot_id or "", row.error[:70]]
            for row in rows
        ],
    )  # fmt: skip
