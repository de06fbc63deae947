"""The home-care service (seed 004): its identity, prestations, clients and their contract, the
interventions of their planning (entered by hand or imported from a CSV file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tuibill.domain import aid_plans
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.models import Client, ContractLine, HomecareService, Intervention, Prestation
from tuibill.models.database import immediate

# The planning file's format and the patients' name keys are imported where used: the month's
# billing (``tuibill billing create``) imports this module for the contracts alone.


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


# --- the service ------------------------------------------------------------------------------


def get_service() -> HomecareService | None:
    return HomecareService.select().order_by(HomecareService.id).first()


def save_service(
    name: str,
    *,
    address: str = "",
    postcode: str = "",
    city: str = "",
    siret: str = "",
    email: str = "",
    phone: str = "",
    iban: str = "",
) -> HomecareService:
    from tuibill.domain.payers import check_email, check_siret

    if not name.strip():
        raise ValidationError("Le nom du service est obligatoire.", field="name")
    values = dict(
        name=name.strip(), address=address, postcode=postcode, city=city,
        siret=check_siret(siret), email=check_email(email), phone=phone, iban=iban,
    )  # fmt: skip
    with immediate():
        service = get_service()
        if service is None:
            return HomecareService.create(**values)
        HomecareService.update(**values).where(HomecareService.id == service.id).execute()
        return HomecareService.get_by_id(service.id)


# --- prestations ------------------------------------------------------------------------------


def save_prestation(code: str, label: str) -> Prestation:
    code = code.strip().upper()
    if not code or len(code) > 12 or not code.replace("_", "").isalnum():
        raise ValidationError(
            "Code de prestation : 1 à 12 lettres ou chiffres (AD, MENAGE…).", field="code"
        )
    if not label.strip():
        raise ValidationError("Le libellé de la prestation est obligatoire.", field="label")
    with immediate():
        prestation = Prestation.get_or_none(Prestation.code == code)
        if prestation is None:
            return Prestation.create(code=code, label=label.strip())
        prestation.label = label.strip()
        prestation.save()
        return prestation


def list_prestations() -> list[Prestation]:
    return list(Prestation.select().order_by(Prestation.code))


def prestation_labels() -> dict[str, str]:
    return {p.code: p.label for p in Prestation.select()}


# --- clients ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientInput:
    last_name: str
    first_name: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    email: str = ""
    phone: str = ""


def create_client(data: ClientInput) -> Client:
    from tuibill.domain.payers import check_email
    from tuibill.services.patients import search_key

    if not data.last_name.strip():
        raise ValidationError("Le nom du client est obligatoire.", field="last_name")
    with immediate():
        return Client.create(
            last_name=data.last_name.strip().upper(),
            first_name=data.first_name.strip(),
            search_name=search_key(data.last_name, data.first_name),
            address=data.address.strip(),
            postcode=data.postcode.strip(),
            city=data.city.strip(),
            email=check_email(data.email),
            phone=data.phone.strip(),
            created_at=now(),
        )


def get_client(client_id: int) -> Client:
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        raise NotFound(f"Client {client_id} introuvable.")
    return client


def search_clients(text: str = "", *, limit: int = 200) -> list[Client]:
    from tuibill.services.patients import prefix_range, search_key

    query = Client.select().where(Client.active)
    if text.strip():
        low, high = prefix_range(search_key(text))
        query = query.where((Client.search_name >= low) & (Client.search_name < high))
    return list(query.order_by(Client.search_name, Client.id).limit(limit))


def set_contract_line(
    client_id: int, prestation: str, base_cents: int, saturday_cents: int, sunday_cents: int
) -> ContractLine:
    """Add or change a prestation of the client's contract (hourly rates in cents)."""
    client = get_client(client_id)
    code = prestation.strip().upper()
    if Prestation.get_or_none(Prestation.code == code) is None:
        raise ValidationError(f"Prestation « {code} » inconnue.", field="prestation")
    aid_plans.HourlyRates(base_cents, saturday_cents, sunday_cents)  # refuses a negative rate
    with immediate():
        line = ContractLine.get_or_none(
            (ContractLine.client == client.id) & (ContractLine.prestation == code)
        )
        if line is None:
            return ContractLine.create(
                client=client.id, prestation=code, base_cents=base_cents,
                saturday_cents=saturday_cents, sunday_cents=sunday_cents,
            )  # fmt: skip
        line.base_cents, line.saturday_cents, line.sunday_cents = (
            base_cents, saturday_cents, sunday_cents,
        )  # fmt: skip
        line.save()
        return line


def contract_of(client_id: int) -> list[aid_plans.ContractPrestation]:
    return contracts_of([client_id]).get(client_id, [])


def contracts_of(client_ids: list[int]) -> dict[int, list[aid_plans.ContractPrestation]]:
    """The contracts of many clients in a few queries (a month's billing of every client)."""
    labels = prestation_labels()
    found: dict[int, list[aid_plans.ContractPrestation]] = {}
    for start in range(0, len(client_ids), 500):  # SQLite's bound-parameter limit
        # Plain rows, not models: a month's billing reads thousands of contract lines.
        for client_id, prestation, base, saturday, sunday in (
            ContractLine.select(
                ContractLine.client, ContractLine.prestation, ContractLine.base_cents,
                ContractLine.saturday_cents, ContractLine.sunday_cents,
            )
            .where(ContractLine.client.in_(client_ids[start : start + 500]))
            .order_by(ContractLine.client, ContractLine.prestation)
            .tuples()
        ):  # fmt: skip
            found.setdefault(client_id, []).append(
                aid_plans.ContractPrestation(
                    prestation,
                    labels.get(prestation, prestation),
                    aid_plans.HourlyRates(base, saturday, sunday),
                )
            )
    return found


# --- interventions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InterventionRow:
    id: int
    client_id: int
    client: str
    day: date
    start_minute: int
    end_minute: int
    prestation: str
    intervenant: str
    billed: bool

    @property
    def hours_text(self) -> str:
        end = self.end_minute
        suffix = " (+1 j)" if end > 1440 else ""
        end = end - 1440 if end > 1440 else end
        return f"{aid_plans.format_clock(self.start_minute)}–{aid_plans.format_clock(end)}{suffix}"

    def as_dict(self) -> dict:
        return {
            "id": self.id, "client": self.client_id, "client_nom": self.client,
            "date": self.day, "horaire": self.hours_text,
            "duree_minutes": self.end_minute - self.start_minute,
            "prestation": self.prestation, "intervenant": self.intervenant,
            "facturee": self.billed,
        }  # fmt: skip


def _check_intervention(client_id: int, item: aid_plans.Intervention) -> None:
    codes = {line.prestation for line in ContractLine.select().where(ContractLine.client == client_id)}
    if item.prestation not in codes:
        raise ValidationError(
            f"Intervention du {item.day:%d/%m/%Y} : la prestation « {item.prestation} » n'est "
            f"pas au contrat du client {client_id} (contrat : {', '.join(sorted(codes)) or 'vide'}).",
            field="prestation",
        )


def add_intervention(
    client_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    prestation: str,
    intervenant: str = "",
) -> Intervention:
    get_client(client_id)
    item = aid_plans.Intervention(day, start_minute, end_minute, prestation.strip().upper(), intervenant)
    _check_intervention(client_id, item)
    with immediate():
        return Intervention.create(
            client=client_id, day=day, start_minute=start_minute, end_minute=end_minute,
            prestation=item.prestation, intervenant=intervenant.strip(), created_at=now(),
        )  # fmt: skip


def delete_intervention(intervention_id: int) -> None:
    with immediate():
        item = Intervention.get_or_none(Intervention.id == intervention_id)
        if item is None:
            raise NotFound(f"Intervention {intervention_id} introuvable.")
        if item.invoice_id is not None:
            raise ValidationError(
                "Intervention déjà facturée : faites un avoir sur la facture d'abord.",
                field="intervention",
            )
        item.delete_instance()


def import_interventions(data: bytes) -> int:
    """Import a planning file (``formats.homecare_csv``): all lines or none. A line naming an
    unknown client, a prestation outside its contract or a bad time refuses the whole file,
    with the line and the reason."""
    from tuibill.formats.errors import FormatError
    from tuibill.formats.homecare_csv import read_interventions

    rows = read_interventions(data)
    contracts: dict[int, set[str]] = {}
    items = []
    for row in rows:
        if row.client_id not in contracts:
            if Client.get_or_none(Client.id == row.client_id) is None:
                raise FormatError(
                    f"Ligne {row.line} : client {row.client_id} inconnu.",
                    record_number=row.line,
                    field="client",
                )
            contracts[row.client_id] = {
                line.prestation
                for line in ContractLine.select().where(ContractLine.client == row.client_id)
            }
        if row.prestation not in contracts[row.client_id]:
            raise FormatError(
                f"Ligne {row.line} : la prestation « {row.prestation} » n'est pas au contrat du "
                f"client {row.client_id}.",
                record_number=row.line,
                field="prestation",
            )
        try:
            aid_plans.Intervention(row.day, row.start_minute, row.end_minute, row.prestation)
        except ValidationError as error:
            raise FormatError(f"Ligne {row.line} : {error}", record_number=row.line) from None
        items.append(row)
    at = now()
    with immediate():
        for row in items:
            Intervention.create(
                client=row.client_id, day=row.day, start_minute=row.start_minute,
                end_minute=row.end_minute, prestation=row.prestation,
                intervenant=row.intervenant, source="import", created_at=at,
            )  # fmt: skip
    return len(items)


def list_interventions(
    *, client_id: int | None = None, start: date | None = None, end: date | None = None
) -> list[InterventionRow]:
    query = Intervention.select(Intervention, Client).join(Client)
    if client_id is not None:
        query = query.where(Intervention.client == client_id)
    if start is not None:
        query = query.where(Intervention.day >= start)
    if end is not None:
        query = query.where(Intervention.day <= end)
    return [
        InterventionRow(
            item.id, item.client_id, item.client.display_name, item.day, item.start_minute,
            item.end_minute, item.prestation, item.intervenant, item.invoice_id is not None,
        )  # fmt: skip
        for item in query.order_by(Intervention.day, Intervention.start_minute, Intervention.id)
    ]


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of *day*'s week (the planning is shown a week at a time)."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def client_dict(client: Client) -> dict:
    return {
        "id": client.id, "nom": client.last_name, "prenom": client.first_name,
        "adresse": client.address, "code_postal": client.postcode, "ville": client.city,
        "email": client.email, "telephone": client.phone,
        "contrat": [
            {"prestation": line.prestation, "tarif_base": line.base_cents,
             "tarif_samedi": line.saturday_cents, "tarif_dimanche_ferie": line.sunday_cents}
            for line in ContractLine.select().where(ContractLine.client == client.id)
        ],
    }  # fmt: skip
