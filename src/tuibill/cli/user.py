"""``tuibill user add|list|passwd|pin|disable|enable|role`` (« Données › Utilisateurs »).

Secrets never go on the command line (every user of the machine sees it in ``ps``): a new
password comes from the variable TUIBILL_NEW_PASSWORD or is typed twice; a PIN from
TUIBILL_NEW_PIN or typed.
"""

from __future__ import annotations

import argparse
import os
import sys

from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_table
from tuibill.domain.errors import ConfigError, ValidationError
from tuibill.domain.permissions import Role

NEW_PASSWORD_ENV = "TUIBILL_NEW_PASSWORD"
NEW_PIN_ENV = "TUIBILL_NEW_PIN"
ROLES = [role.value for role in Role]


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("user", parents=[common], help="comptes utilisateurs et rôles")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    add = verbs.add_parser("add", parents=[common], help="créer un compte")
    add.add_argument("login", metavar="IDENTIFIANT")
    add.add_argument("--name", metavar="NOM", default="", help="nom affiché")
    add.add_argument("--role", choices=ROLES, required=True, metavar="RÔLE",
                     help=f"rôle : {', '.join(ROLES)}")  # fmt: skip
    add.add_argument("--practitioner", type=int, metavar="PRATICIEN",
                     help="n° du praticien (obligatoire pour un praticien)")  # fmt: skip
    add.add_argument("--pin", action="store_true",
                     help=f"donner aussi un PIN de déverrouillage ({NEW_PIN_ENV} ou saisi)")  # fmt: skip
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    ls = verbs.add_parser("list", parents=[common], help="les comptes et leur rôle")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    pw = verbs.add_parser("passwd", parents=[common], help="changer un mot de passe")
    pw.add_argument("login", metavar="IDENTIFIANT", nargs="?", help="défaut : le sien")
    pw.add_argument("--pin", action="store_true", help="changer le PIN plutôt que le mot de passe")
    pw.set_defaults(handler=cmd_passwd)

    for name, text, active in (("disable", "désactiver un compte", False),
                               ("enable", "réactiver un compte", True)):  # fmt: skip
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("login", metavar="IDENTIFIANT")
        verb.add_argument("--reason", default="", help="motif (inscrit dans l'historique)")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=cmd_active, active=active)

    role = verbs.add_parser("role", parents=[common], help="changer le rôle d'un compte")
    role.add_argument("login", metavar="IDENTIFIANT")
    role.add_argument("role", choices=ROLES, metavar="RÔLE", help=f"{', '.join(ROLES)}")
    role.add_argument("--practitioner", type=int, metavar="PRATICIEN")
    role.add_argument("--json", action="store_true")
    role.set_defaults(handler=cmd_role)


def _secret(variable: str, prompt: str, *, twice: bool) -> str:
    value = os.environ.get(variable)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise ConfigError(f"{prompt} absent : mettez-le dans la variable {variable}.")
    import getpass

    value = getpass.getpass(f"{prompt} : ")
    if twice and getpass.getpass(f"{prompt} (encore) : ") != value:
        raise ValidationError("Les deux saisies diffèrent.")
    return value


def _show(ctx: CliContext, row) -> None:
    if ctx.json:
        print_json(row.as_dict())
    else:
        state = "actif" if row.active else "désactivé"
        print(f"{row.login} : {row.role.label}, {state}" + (f" — {row.name}" if row.name else ""))


def cmd_add(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import users

    ctx.open_db()
    password = _secret(NEW_PASSWORD_ENV, f"Mot de passe de {args.login}", twice=True)
    pin = _secret(NEW_PIN_ENV, f"PIN de {args.login}", twice=True) if args.pin else ""
    row = users.create_user(
        args.login, args.name, args.role, password, by=ctx.user, pin=pin,
        practitioner_id=args.practitioner,
    )  # fmt: skip
    _show(ctx, row)
    return 0


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import users

    ctx.open_db()
    rows = users.list_users()
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return 0
    if not rows:
        print("Aucun compte : la base fonctionne sans connexion, en administrateur "
              f"« {users.DEFAULT_ADMIN} » (créez le premier avec « tuibill user add … "
              "--role administrateur »).")  # fmt: skip
        return 0
    print_table(
        ["Identifiant", "Nom", "Rôle", "État", "PIN", "Praticien"],
        [(r.login, r.name, r.role.label, "actif" if r.active else "désactivé",
          "oui" if r.has_pin else "non", r.practitioner) for r in rows],
    )  # fmt: skip
    return 0


def cmd_passwd(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import users

    ctx.open_db()
    login = args.login or ctx.user
    if args.pin:
        users.set_pin(login, _secret(NEW_PIN_ENV, f"Nouveau PIN de {login}", twice=True), by=ctx.user)
        print(f"PIN de {login} changé.")
    else:
        password = _secret(NEW_PASSWORD_ENV, f"Nouveau mot de passe de {login}", twice=True)
        users.set_password(login, password, by=ctx.user)
        print(f"Mot de passe de {login} changé.")
    return 0


def cmd_active(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import users

    ctx.open_db()
    _show(ctx, users.set_active(args.login, args.active, by=ctx.user, reason=args.reason))
    return 0


def cmd_role(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import users

    ctx.open_db()
    _show(ctx, users.set_role(args.login, args.role, by=ctx.user, practitioner_id=args.practitioner))
    return 0
