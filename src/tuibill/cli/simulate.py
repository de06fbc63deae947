"""``tuibill simulate caisse``: a simulated caisse that receives lots by SMTP and answers ARLs
(and NOEMIE returns)."""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext

MODES = ("positive", "negative", "silent", "script")


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "simulate", parents=[common], help="simulateurs pour la démonstration et les tests"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    caisse = verbs.add_parser(
        "caisse",
        parents=[common],
        help="caisse simulée : reçoit les lots par SMTP et répond des ARL (et des retours NOEMIE)",
        description="Caisse simulée : un serveur SMTP sur 127.0.0.1 reçoit les lots, les lit "
        "strictement et dépose les ARL en réponse dans une boîte maildir (celle du cabinet).",
    )
    caisse.add_argument(
        "--smtp-port", type=arguments.bounded(0, 65535, "port"), default=2525, metavar="PORT", help="0 : un port libre"
    )
    caisse.add_argument(
        "--outbox", required=True, metavar="DOSSIER", help="maildir où déposer les réponses"
    )
    caisse.add_argument(
        "--mode",
        choices=MODES,
        help="réponse à chaque lot (défaut : positive, ou script si --script est donné)",
    )
    caisse.add_argument("--reason", metavar="CODE", help="motif des ARL négatifs (défaut : 001)")
    caisse.add_argument("--script", metavar="FICHIER", help="scénario TOML par lot et par envoi")
    caisse.add_argument(
        "--retour",
        metavar="GENRE",
        help="après l'ARL positif, un retour NOEMIE : paiement[:JOURS], rejet[:CODE], "
        "refus-ligne[:CODE], differe ou mixte",
    )
    caisse.add_argument(
        "--recycling-days",
        type=arguments.bounded(0, 1098, "jours"),
        default=90,
        metavar="JOURS",
        help="le concentrateur refuse un numéro de FSE déjà reçu depuis moins de JOURS jours "
        "(« DOUBLON DE FSE »), sauf rejetée ou recyclée ; 0 : jamais (défaut : 90)",
    )
    caisse.add_argument(
        "--delay",
        type=float,
        default=0.0,
        metavar="SECONDES",
        help="attendre avant de déposer chaque réponse",
    )
    caisse.set_defaults(handler=cmd_caisse)

    ret = verbs.add_parser(
        "return",
        parents=[common],
        help="écrire le retour NOEMIE qu'enverrait la caisse pour un lot (formation, essais)",
        description="Écrit dans un fichier le retour NOEMIE que la caisse simulée enverrait pour "
        "un lot de la base (à importer ensuite : tuibill returns import FICHIER).",
    )
    ret.add_argument("lot", type=arguments.identifier, metavar="LOT", help="identifiant du lot")
    ret.add_argument(
        "--genre",
        default="paiement",
        metavar="GENRE",
        help="paiement[:JOURS], rejet[:CODE], refus-ligne[:CODE], differe ou mixte",
    )
    ret.add_argument("--output", required=True, metavar="FICHIER", help="où écrire le retour")
    ret.add_argument(
        "--date", type=arguments.day, metavar="JJ/MM/AAAA", help="date du virement (défaut : jour)"
    )
    ret.set_defaults(handler=cmd_return)


def _scenario(args: argparse.Namespace):
    from tuibill.domain.errors import ConfigError
    from tuibill.simulator.scenarios import Answer, FixedScenario, load_script

    mode = args.mode or ("script" if args.script else "positive")
    if mode == "script":
        if not args.script:
            raise ConfigError("--mode script demande --script FICHIER.")
        if args.retour:
            raise ConfigError("--retour : en mode script, écrivez les retours dans le scénario.")
        return mode, load_script(args.script)
    if args.script:
        raise ConfigError(f"--script ne va qu'avec --mode script (pas --mode {mode}).")
    if args.reason and mode != "negative":
        raise ConfigError("--reason ne sert qu'avec --mode negative ou script.")
    answers = [Answer(mode, args.reason or "")]
    if args.retour:
        if mode != "positive":
            raise ConfigError("--retour ne va qu'avec --mode positive (un lot refusé n'est pas payé).")
        answers.append(Answer.parse(args.retour, where="--retour"))
    return mode, FixedScenario(tuple(answers))


def cmd_caisse(args: argparse.Namespace, ctx: CliContext) -> int | None:
    import signal
    import threading
    from datetime import datetime

    from tuibill.domain.errors import ConfigError, RefusedOperation
    from tuibill.formats.arl import REASON_UNREADABLE
    from tuibill.simulator.caisse import SIMULATOR_HOST, CaisseSimulator, SmtpCaisse

    if args.delay < 0:
        raise ConfigError("--delay : un nombre de secondes positif est attendu.")
    if not 0 <= args.smtp_port <= 65535:
        raise ConfigError("--smtp-port : un port de 0 à 65535 est attendu.")
    mode, scenario = _scenario(args)

    def log(message: str) -> None:
        print(f"{datetime.now():%H:%M:%S} {message}", flush=True)

    simulator = CaisseSimulator(
        args.outbox, scenario, negative_reason=args.reason or REASON_UNREADABLE, log=log,
        recycling_days=args.recycling_days,
    )
    server = SmtpCaisse(simulator, port=args.smtp_port, delay=args.delay)
    try:
        server.start()
    except OSError as error:
        raise RefusedOperation(
            f"impossible d'écouter sur {SIMULATOR_HOST}:{args.smtp_port} ({error.strerror or error})."
        ) from None

    stop = threading.Event()
    # SIGTERM (a service manager, a test harness) stops as cleanly as Ctrl+C.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    print(
        f"Caisse simulée à l'écoute sur {SIMULATOR_HOST}:{server.port} (SMTP), mode {mode} ; "
        f"réponses dans {simulator.outbox}. Ctrl+C pour arrêter.",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("Caisse simulée arrêtée.", flush=True)
    return None


def cmd_return(args: argparse.Namespace, ctx: CliContext) -> int:
    from datetime import date
    from pathlib import Path

    from tuibill.domain.errors import RefusedOperation
    from tuibill.services.simulated_returns import simulated_return
    from tuibill.simulator.returns import RETURN_KINDS, ReturnResponder
    from tuibill.simulator.scenarios import Answer

    answer = Answer.parse(args.genre, where="--genre")
    if answer.kind not in RETURN_KINDS:
        raise RefusedOperation(
            f"--genre « {answer.kind} » inconnu (possibles : {', '.join(RETURN_KINDS)})."
        )
    ReturnResponder(answer.kind).check(answer)
    ctx.open_db()
    name, data = simulated_return(
        args.lot, answer.kind, argument=answer.argument, received=args.date or date.today()
    )
    target = Path(args.output).expanduser()
    try:
        target.write_bytes(data)
    except OSError as error:
        raise RefusedOperation(f"impossible d'écrire {target} ({error.strerror or error}).") from None
    print(f"Retour « {answer} » du lot {args.lot} écrit dans {target} ({len(data)} octets).")
    return 0
