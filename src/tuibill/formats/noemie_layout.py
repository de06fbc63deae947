"""The NOEMIE PS return layout: every entity type, field by field, and the code lists.

The positions, widths, types and closed value lists are the public cahier des charges as restated
in ``/work/shared/formats/noemie-ps.md``; ``docs/formats/noemie-ps.md`` renders these specs
(:func:`tuibill.formats.records.describe_layout`) and a test keeps both equal.

Field names are the attributes of the dataclasses in :mod:`tuibill.formats.noemie_content`,
except ``depth`` (the *niveau de rupture*), ``end`` (the ``@`` delimiter) and the ``*_sign``
fields, which the codec folds into the signed amount they follow.

Conventions, in one place (``docs/formats/noemie-ps.md`` says why):

* amounts are integer cents (two implied decimals); an amount with a sign field is signed in
  Python, and zero is always written ``P`` (``N`` with a zero or absent amount is refused);
* dates are ``AAMMJJ`` read by :class:`ShortDate` (``00``-``79`` → 20xx, ``80``-``99`` → 19xx);
  birth dates stay the six digits as written (SESAM-Vitale birth dates may be "lunar", and a
  century cannot be guessed for a birth);
* identifiers written as digits (numbers of PS, AMC, archive, keys, codes) stay strings, so no
  leading zero is lost; counts, rates (percent), coefficients (hundredths) and amounts are ints;
* texts keep their content and lose their right padding; blank optional fields are ``None``.
"""

from __future__ import annotations

from tuibill.formats.records import (
    Alpha,
    BlankOr,
    Choice,
    Code,
    Field,
    Filler,
    Kind,
    Literal,
    Number,
    RecordSpec,
    Reject,
    ShortDate,
    show,
)

BLOCK = 128  # bytes per block; every block after the first starts with a marker
BLOCK_DATA = BLOCK - 1
LAST_MARKER = "1"
NEXT_MARKER = "0"  # what tuibill writes; a reader accepts any byte but "1"
ENCODING = "latin-1"

LEVEL_CONTROL = "99"
DEPTH_LOT = 3
DEPTH_INVOICE = 4
DEPTH_INVOICE_ENTITY = 5
DEPTH_OTHER = 4  # 250, 261, 262
MAX_DEPTH = 98

MAX_AMOUNT = 99_999_999  # eight digits
MAX_TOTAL = 99_999_999_999  # eleven digits (990 and 999 totals)


class PsNumber(Kind):
    """A 9-digit PS number, right-aligned and zero-padded in a wider numeric field."""

    type_code = "N"

    def __init__(self, digits: int = 9) -> None:
        self.digits = digits

    def allowed(self, width: int) -> str:
        return f"{width} chiffres : numéro du PS sur {self.digits} chiffres, zéros devant"

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, str) or len(value) != self.digits or not value.isdigit():
            raise Reject(f"{show(repr(value))} : un numéro de {self.digits} chiffres est attendu")
        if not value.isascii():
            raise Reject(f"« {show(value)} » : chiffres 0-9 attendus")
        return value.rjust(width, "0")

    def decode(self, text: str) -> object:
        padding = len(text) - self.digits
        if not (text.isascii() and text.isdigit()):
            raise Reject(f"« {show(text)} » n'est pas un nombre de {len(text)} chiffres")
        if text[:padding].strip("0"):
            raise Reject(
                f"« {text} » : numéro de PS sur {self.digits} chiffres attendu, "
                f"les {padding} premiers chiffres à zéro"
            )
        return text[padding:]


def _codes(*pairs: tuple[str, str], optional: bool = False) -> Choice:
    return Choice([(code, code, label) for code, label in pairs], optional=optional)


def _digits(count: int, *, optional: bool = False) -> Code:
    return Code(rf"[0-9]{{{count}}}", f"{count} chiffres", optional=optional)


ORGANISMS = (
    ("AN", "Assemblée nationale"),
    ("BF", "Banque de France"),
    ("CC", "Caisse des cultes"),
    ("CE", "CRPCEN (clercs et employés de notaires)"),
    ("CF", "SNCF"),
    ("CI", "Chambre de commerce et d'industrie de Paris"),
    ("CM", "CNMSS (Caisse nationale militaire de sécurité sociale)"),
    ("CP", "C.P.A.M."),
    ("CR", "C.R.A.M."),
    ("CS", "Centre de service complémentaire (AMC)"),
    ("CT", "Centre de traitement informatique (régime général)"),
    ("EN", "ENIM (Établissement national des invalides de la marine)"),
    ("MA", "MSA"),
    ("OC", "Organisme complémentaire (AMC)"),
    ("OT", "Organisme concentrateur technique (OCT)"),
    ("PB", "Port autonome de Bordeaux"),
    ("RM", "Sécurité sociale minière"),
    ("RP", "R.A.T.P."),
    ("SE", "Caisses autonomes de sécurité sociale du Sénat"),
    ("SI", "Autres émetteurs (sociétés civiles professionnelles…)"),
    ("SM", "Section des mutuelles nationales"),
    ("SR", "Centre informatique régional (AMPI)"),
    ("TE", "Établissements"),
    ("TP", "Autres partenaires de santé"),
)
RETURN_TYPES = (
    ("01", "Retours sur prestations transmises en flux électroniques"),
    ("02", "Retours sur prestations en facturation papier"),
    ("03", "Paiements ponctuels ou forfaitaires"),
    ("04", "Rappels sur prestations"),
    ("05", "Retenues"),
)
INVOICE_TYPES = (
    ("A", "Flux AMC"),
    ("B", "Flux B2 ou SESAM dégradé"),
    ("D", "DRE"),
    ("F", "FSE"),
    ("P", "Facture papier AMO ou AMO + AMC"),
    ("C", "Facture papier AMC"),
    ("E", "Rappel sur prestations"),
    ("R", "Réservé aux échanges inter-centres de traitement - rejeté"),
    ("L", "Réservé aux échanges inter-centres de traitement - liquidé"),
)
AMC_TREATMENTS = (
    ("N", "Envoi de l'image décompte en NOEMIE 1 suite à TP sur la part AMC"),
    ("V", "Ordre de virement distinct pour la part AMO et la part AMC"),
    ("C", "Paiement coordonné (CMU, référent, NOEMIE 3…)"),
    ("E", "Éclatement sur le poste"),
    ("A", "Éclatement par un OCT"),
    ("F", "Éclatement par un OCT"),
)
PART_STATES = (("P", "Payé"), ("R", "Rejeté"), ("D", "Différé"))
SIGNS = (("P", "Positif"), ("N", "Négatif"))
NAME_NATURES = (("M", "Marital"), ("P", "Patronymique"), ("U", "Usage"))
INSURANCE_NATURES = (("AS", "Maladie"), ("AT", "Accident du travail"), ("AM", "Maternité"))
ACT_COMPLEMENTS = (
    ("E", "Examen, expertise"),
    ("F", "Majoration jour férié"),
    ("N", "Majoration de nuit"),
    ("P", "Présent"),
    ("S", "Sortie"),
    ("T", "Transfert"),
)
EXPENSE_QUALIFIERS = (
    ("AT", "Tiers payant AT"),
    ("DD", "Dépassement non prescrit"),
    ("DE", "Dépassement exigence"),
    ("DF", "Dépassement fortune"),
    ("DP", "Dépassement permanent"),
    ("ED", "Entente directe"),
    ("GR", "Gratuit"),
    ("NR", "Non remboursable"),
    ("S", "Honoraires globalisés, suite"),
    ("TM", "Ticket modérateur seul"),
)
DEBT_NATURES = (
    ("ACC", "Acompte sur prestations"),
    ("AFF", "Affranchissement"),
    ("API", "Acompte caisse centralisatrice des paiements"),
    ("APR", "Avance sur prestations"),
    ("IEC", "Indu suite à erreur comptable"),
    ("IND", "Indu sur prestations"),
    ("IPH", "Indu sur avance pharmacie"),
    ("IPI", "Créance non gérée par caisse gestionnaire"),
    ("ISP", "Impayé mandat ou virement solde"),
    ("ODL", "Opposition interne paiement en double"),
    ("OID", "Opposition interne diverse"),
    ("REL", "Reliquat"),
    ("VMI", "Virement ou mandat impayé"),
)
RECOVERY_OPERATIONS = (
    ("ANT", "Annulation totale"),
    ("CIN", "Constat initial"),
    ("LOP", "Mainlevée d'opposition partielle"),
    ("LOT", "Mainlevée d'opposition totale"),
    ("NVP", "Admission en non-valeur partielle"),
    ("NVT", "Admission en non-valeur totale"),
    ("PAI", "Paiement"),
    ("PPR", "Passage en profit"),
    ("RAS", "Remboursement à l'assuré"),
    ("RDP", "Remise de dette partielle"),
    ("RDS", "Remise de dette < seuil"),
    ("RDT", "Remise de dette totale"),
    ("REL", "Rectification d'un élément signalétique"),
    ("RMO", "Rectification d'un montant"),
    ("RPR", "Retenue sur prestation"),
)
PERIODS = (
    ("H", "Hebdomadaire"),
    ("M", "Mensuel"),
    ("T", "Trimestriel"),
    ("S", "Semestriel"),
    ("A", "Annuel"),
    ("P", "Ponctuel"),
)
REJECTION_LEVELS = (("F", "Facture"), ("L", "Ligne de prestation"), ("A", "Code affiné"))
REJECTION_PARTS = (
    ("O", "Part obligatoire, ou obligatoire + complémentaire"),
    ("C", "Part complémentaire"),
)

AMOUNT = Number(0, MAX_AMOUNT)
SIGN = _codes(*SIGNS)
DATE = ShortDate()
BIRTH_DATE = Code(r"[0-9]{6}", "AAMMJJ tel qu'écrit (date « lunaire » admise)")


def _depth(kind: Kind) -> Field:
    return Field("depth", "niveau de rupture", 2, kind)


def _free_depth(low: int) -> Field:
    return _depth(Number(low, MAX_DEPTH))


END = Field("end", "délimiteur fin d'entité", 1, Literal("@"))


def _entity(code: str, label: str, depth: Field | None, fields: list[Field]) -> RecordSpec:
    body = ([depth] if depth else []) + fields + ([END] if depth else [])
    return RecordSpec(code, label, body, width=None)


# The 000 and the 999 share their first fields: the 999 repeats the header's identification.
_IDENTIFICATION = [
    Field("emitter_type", "type d'émetteur", 2, _codes(*ORGANISMS)),
    Field("emitter_number", "numéro d'émetteur", 14, _digits(14)),
    Field("emitter_program", "programme émetteur", 6, Alpha(optional=True)),
    Field("recipient_type", "type de destinataire", 2, _codes(*ORGANISMS)),
    Field("recipient_number", "numéro de destinataire", 14, Alpha()),
    Field("recipient_program", "programme destinataire", 6, Alpha(optional=True)),
    Field("application_type", "application-type d'échange", 2, Alpha(optional=True)),
    Field("file_id", "identification du fichier", 6, Alpha()),
]
_FLOW = Choice(
    [("R", "R", "Réel"), ("T", "T", "Test"), ("D", "D", "Démo")], optional=True
)  # blank is réel too

HEADER = RecordSpec(
    "000",
    "en-tête",
    [
        *_IDENTIFICATION,
        Field("created", "date de création du fichier", 6, DATE),
        Field("norm", "norme utilisée - référence de l'échange", 4, Alpha()),
        Field("version", "version utilisée", 2, Alpha(optional=True)),
        Field("compaction", "compactage", 1, Alpha(optional=True)),
        Field("encryption", "cryptage", 1, _codes(("O", "Oui"), ("N", "Non"), optional=True)),
        Field("currency", "unité monétaire", 1, Literal("U")),
        Field("flow_type", "type de flux", 1, _FLOW),
        Field("blank", "blanc", 11, Filler()),
        Field("record_length", "longueur d'enregistrement", 3, Literal("128")),
        Field("password", "mot de passe", 6, Alpha(optional=True)),
        Field("message", "zone message", 37, Alpha(optional=True)),
    ],
    width=BLOCK,
)

TRAILER = RecordSpec(
    "999",
    "fin de fichier",
    [
        *_IDENTIFICATION,
        Field(
            "block_count",
            "nombre d'enregistrements (blocs de 128 octets)",
            8,
            Number(1, 99_999_999),
        ),
        Field("flow_type", "type de flux", 1, _FLOW),
        Field("blank", "blanc", 18, Filler()),
        Field("lot_count", "nombre de lots", 3, Number(0, 999)),
        Field("total", "cumul des montants du fichier", 11, Number(0, MAX_TOTAL)),
        Field("total_sign", "signe du montant du fichier", 1, SIGN),
        Field(
            "other_currency_cents",
            "cumul des montants du fichier dans l'autre monnaie",
            11,
            BlankOr(Number(0, MAX_TOTAL)),
        ),
        Field("blank_end", "blanc", 20, Filler()),
    ],
    width=BLOCK,
)
# What the 999 repeats of the 000, checked equal.
TRAILER_REPEATS = (*(item.name for item in _IDENTIFICATION), "flow_type")
# The last block may end inside the 999: what is cut off can only be these blank fields.
TRAILER_MIN = TRAILER.starts["other_currency_cents"]

MANDATAIRE = _entity(
    "020",
    "mandataire",
    _depth(Literal("01")),
    [Field("mandataire", "numéro de destinataire de règlement", 15, _digits(15))],
)
PAYEE = _entity(
    "040",
    "destinataire de règlement",
    _depth(Literal("02")),
    [Field("payee", "numéro de destinataire de règlement", 15, PsNumber())],
)
ACCOUNTING_DATE = _entity(
    "070",
    "date comptable",
    _depth(Literal("02")),
    [Field("accounting_date", "date de la journée comptable", 6, DATE)],
)
TRANSFER = _entity(
    "071",
    "date comptable et référence du virement",
    _depth(Literal("02")),
    [
        Field(
            "accounting_date",
            "date de la journée comptable ou date d'émission du virement",
            6,
            DATE,
        ),
        Field("label1", "libellé du virement - ligne 1", 32, Alpha()),
        Field("label2", "libellé du virement - ligne 2", 32, Alpha(optional=True)),
        Field("paying_body", "organisme payeur", 10, Alpha(optional=True)),
    ],
)
LOT = _entity(
    "080",
    "lot",
    _free_depth(DEPTH_LOT),
    [
        Field("created", "date de constitution du lot", 6, DATE),
        Field("number", "numéro de lot", 3, Number(0, 999)),
    ],
)
RETURN_TYPE = _entity(
    "081",
    "type de retour",
    _depth(Literal("02")),
    [
        Field("return_type", "code du type de retour", 2, _codes(*RETURN_TYPES)),
        Field("execution_place", "numéro du lieu d'exécution de l'acte", 14, Alpha(optional=True)),
    ],
)
INVOICE_NUMBER = _entity(
    "100",
    "facture (numéro seul)",
    _free_depth(DEPTH_LOT),
    [Field("number", "numéro de facture", 9, _digits(9))],
)
INVOICE = _entity(
    "102",
    "facture",
    _free_depth(DEPTH_LOT),
    [
        Field("number", "n° de facture", 9, Alpha()),
        Field("complement", "complément au n° de facture", 6, Alpha(optional=True)),
        Field("invoice_lot", "n° de lot", 3, Alpha(optional=True)),
        Field("invoice_lot_date", "date de création du lot", 6, BlankOr(DATE)),
        Field("invoice_type", "type de facture", 1, _codes(*INVOICE_TYPES)),
        Field("billing_date", "date de facturation", 6, BlankOr(DATE)),
        Field(
            "amc_treatment",
            "traitement effectué sur la part AMC",
            1,
            _codes(*AMC_TREATMENTS, optional=True),
        ),
        Field("insurance_nature", "nature d'assurance", 2, Alpha(optional=True)),
    ],
)
INSURED_PATIENT = _entity(
    "103",
    "assuré et bénéficiaire",
    _free_depth(DEPTH_INVOICE),
    [
        Field("nir", "n° immatriculation", 13, Alpha()),
        Field("nir_key", "clé du numéro d'immatriculation", 2, _digits(2)),
        Field("birth_name", "nom patronymique", 25, Alpha(optional=True)),
        Field("usage_name", "nom d'usage", 25, Alpha(optional=True)),
        Field("first_name", "prénom", 15, Alpha(optional=True)),
        Field("individual_nir", "n° immatriculation individuel", 13, Alpha(optional=True)),
        Field(
            "individual_nir_key",
            "clé du numéro d'immatriculation individuel",
            2,
            _digits(2, optional=True),
        ),
        Field("birth_date", "date de naissance", 6, BIRTH_DATE),
        Field("birth_rank", "rang de naissance", 1, Number(0, 9)),
        Field("beneficiary_name", "nom", 25, Alpha(optional=True)),
        Field("beneficiary_first_name", "prénom", 15, Alpha(optional=True)),
        Field("management_unit", "unité de gestion de rattachement", 4, _digits(4, optional=True)),
    ],
)
INSURED = _entity(
    "110",
    "assuré",
    _free_depth(DEPTH_INVOICE),
    [
        Field("nir", "numéro de sécurité sociale", 13, Alpha()),
        Field("nir_key", "clé du numéro de sécurité sociale", 2, _digits(2)),
        Field("name_nature", "nature du nom", 1, _codes(*NAME_NATURES)),
        Field("name", "nom du bénéficiaire", 25, Alpha()),
        Field("blank", "blanc", 26, Filler()),
        Field("first_name", "prénom du bénéficiaire", 15, Alpha()),
    ],
)
PATIENT = _entity(
    "120",
    "malade",
    _free_depth(DEPTH_INVOICE),
    [
        Field("birth_date", "date de naissance du bénéficiaire", 6, BIRTH_DATE),
        Field("rank", "rang du bénéficiaire", 1, Alpha()),
        Field("name", "nom du malade", 25, Alpha()),
        Field("first_name", "prénom du malade", 15, Alpha()),
        Field("management_unit", "unité de gestion de rattachement", 4, Alpha()),
    ],
)
INSURANCE_NATURE = _entity(
    "150",
    "nature d'assurance",
    _free_depth(DEPTH_INVOICE),
    [Field("code", "nature de l'assurance", 2, _codes(*INSURANCE_NATURES))],
)
ARCHIVE = _entity(
    "160",
    "critère d'archivage",
    _free_depth(DEPTH_INVOICE),
    [Field("number", "numéro d'archivage", 17, _digits(17))],
)


def _part_fields(which: str) -> list[Field]:
    return [
        Field("asked_cents", f"montant {which} demandé", 8, AMOUNT),
        Field("state", f"état paiement part {which}", 1, _codes(*PART_STATES, optional=True)),
        Field("paid_cents", f"montant {which} payé", 8, BlankOr(AMOUNT)),
        Field("paid_sign", f"signe du montant {which} payé", 1, SIGN),
    ]


AMO_PART = _entity("198", "part AMO", _free_depth(DEPTH_INVOICE), _part_fields("AMO"))
AMC_PART = _entity(
    "199",
    "part AMC",
    _free_depth(DEPTH_INVOICE),
    [
        *_part_fields("AMC"),
        Field("amc_number", "n° AMC destinataire", 10, _digits(10)),
        Field("member_id", "n° identification AMC de l'adhérent", 15, Alpha(optional=True)),
    ],
)
ACT_LINE = _entity(
    "210",
    "acte professionnel",
    _free_depth(DEPTH_INVOICE),
    [
        Field("line", "n° de ligne", 2, Number(0, 99)),
        Field("regime_code", "code gestion technique pour régime", 2, _digits(2)),
        Field("exoneration", "justification pour exonération", 1, Alpha()),
        Field("processing_mode", "mode de traitement", 2, _digits(2)),
        Field("discipline", "discipline médico-tarifaire", 3, _digits(3)),
        Field("prescription_date", "date de prescription d'un acte", 6, DATE),
        Field("care_date", "date des soins ou date début", 6, DATE),
        Field("care_end_date", "date de fin de soins", 6, DATE),
        Field("unit_price_cents", "prix unitaire d'un acte", 8, AMOUNT),
        Field("base_cents", "base de remboursement d'un acte", 8, AMOUNT),
        Field("rate", "taux de remboursement", 3, Number(0, 999)),
        Field("refunded_cents", "montant remboursé", 8, AMOUNT),
        Field("refunded_sign", "signe de l'acte", 1, SIGN),
        Field("nature", "nature de la prestation", 3, Alpha()),
        Field(
            "complement",
            "code complémentaire à la nature d'acte",
            2,
            _codes(*ACT_COMPLEMENTS, optional=True),
        ),
        Field("quantity", "quantité d'actes", 3, Number(0, 999)),
        Field("coefficient_x100", "coefficient de l'acte", 5, Number(0, 99_999)),
        Field("count", "dénombrement des actes", 3, Number(0, 999)),
        Field("expense_cents", "montant de la dépense", 8, AMOUNT),
        Field(
            "qualifier",
            "qualificatif de la dépense",
            2,
            _codes(*EXPENSE_QUALIFIERS, optional=True),
        ),
        Field("am_rate", "taux complémentaire Alsace/Moselle", 3, Number(0, 999)),
        Field("am_cents", "montant complémentaire Alsace/Moselle", 8, AMOUNT),
        Field("amc_rate", "taux part complémentaire mutuelle", 3, Number(0, 999)),
        Field("amc_cents", "montant part complémentaire", 8, AMOUNT),
        Field("amc_base_cents", "base remboursement mutuelle", 8, AMOUNT),
    ],
)
WITHHOLDING = _entity(
    "250",
    "mouvement financier - retenue",
    _free_depth(DEPTH_LOT),
    [
        Field("line", "numéro de ligne pour NOEMIE", 2, Number(0, 99)),
        Field("debt_reference", "référence de la dette", 10, Alpha()),
        Field("debt_date", "date d'enregistrement de la dette", 6, DATE),
        Field("debt_nature", "nature de la dette", 3, _codes(*DEBT_NATURES)),
        Field(
            "operation", "nature des opérations de récupération", 3, _codes(*RECOVERY_OPERATIONS)
        ),
        Field("amount_cents", "montant du mouvement financier", 8, AMOUNT),
        Field("amount_sign", "signe de l'acte", 1, SIGN),
        Field("balance_cents", "montant du solde d'une dette", 8, BlankOr(AMOUNT)),
    ],
)
FLAT_PAYMENT = _entity(
    "261",
    "paiement ponctuel ou forfaitaire",
    _free_depth(DEPTH_LOT),
    [
        Field("code", "code paiement ponctuel ou forfaitaire", 5, _digits(5)),
        Field("amount_cents", "montant paiement ponctuel ou forfaitaire", 8, AMOUNT),
    ],
)
FLAT_PAYMENT_DETAIL = _entity(
    "262",
    "détail paiement ponctuel ou forfaitaire",
    _free_depth(DEPTH_LOT),
    [
        Field("code", "codification", 5, Alpha(optional=True)),
        Field("label", "libellé associé", 80, Alpha(optional=True)),
        Field("nir", "n° d'immatriculation", 13, Alpha(optional=True)),
        Field("nir_key", "clé du numéro d'immatriculation", 2, _digits(2, optional=True)),
        Field("birth_date", "date de naissance", 6, BlankOr(BIRTH_DATE)),
        Field("birth_rank", "rang de naissance", 1, BlankOr(Number(0, 9))),
        Field("period", "période", 1, _codes(*PERIODS)),
        Field("period_start", "date début période", 6, BlankOr(DATE)),
        Field("period_end", "date fin période", 6, BlankOr(DATE)),
        Field("amount_cents", "montant", 8, AMOUNT),
    ],
)
SIGNALEMENT = _entity(
    "290",
    "rejet ou signalement",
    _free_depth(DEPTH_INVOICE),
    [
        Field("line", "n° de ligne", 2, Number(0, 99)),
        Field("code", "codification", 10, Alpha()),
        Field("label", "libellé", 80, Alpha()),
    ],
)
REJECTION = _entity(
    "294",
    "ligne rejet",
    _free_depth(DEPTH_INVOICE),
    [
        Field("code", "codification du rejet", 4, Alpha()),
        Field("label", "libellé du rejet", 86, Alpha()),
        Field("level", "niveau de rejet", 1, _codes(*REJECTION_LEVELS)),
        Field("part", "part concernée", 1, _codes(*REJECTION_PARTS)),
        Field("nature", "nature de prestation concernée", 5, Alpha(optional=True)),
        Field("care_date", "date des soins", 6, BlankOr(DATE)),
        Field("executant", "n° exécutant", 9, _digits(9, optional=True)),
        Field("line", "n° de ligne", 3, BlankOr(Number(0, 999))),
        Field("rank", "rang du rejet", 2, BlankOr(Number(0, 99))),
        Field("info", "information complémentaire sur le rejet", 30, Alpha(optional=True)),
    ],
)
COMMENT = _entity(
    "295",
    "ligne commentaire",
    _free_depth(DEPTH_INVOICE),
    [
        Field("code", "code commentaire", 1, Alpha(optional=True)),
        Field("text", "commentaire", 128, Alpha()),
    ],
)
CONTROL = _entity(
    "990",
    "entité de contrôle",
    _depth(Literal(LEVEL_CONTROL)),
    [
        Field("identification", "identification du niveau de rupture", 17, Alpha(optional=True)),
        Field("count", "compteur du niveau inférieur dans la hiérarchie", 8, Number(0, 99_999_999)),
        Field("amount_cents", "cumul des montants de niveau inférieur", 11, Number(0, MAX_TOTAL)),
        Field("amount_sign", "signe de l'acte", 1, SIGN),
    ],
)

ENTITIES: tuple[RecordSpec, ...] = (
    HEADER,
    MANDATAIRE,
    PAYEE,
    ACCOUNTING_DATE,
    TRANSFER,
    LOT,
    RETURN_TYPE,
    INVOICE_NUMBER,
    INVOICE,
    INSURED_PATIENT,
    INSURED,
    PATIENT,
    INSURANCE_NATURE,
    ARCHIVE,
    AMO_PART,
    AMC_PART,
    ACT_LINE,
    WITHHOLDING,
    FLAT_PAYMENT,
    FLAT_PAYMENT_DETAIL,
    SIGNALEMENT,
    REJECTION,
    COMMENT,
    CONTROL,
    TRAILER,
)
BY_CODE: dict[str, RecordSpec] = {spec.code: spec for spec in ENTITIES}

# Amount fields followed by their sign field: folded into one signed int.
SIGNED = {
    "paid_cents": "paid_sign",
    "refunded_cents": "refunded_sign",
    "amount_cents": "amount_sign",
}


def lot_identification(number: int) -> str:
    """The 990 identification of the control that closes lot *number*: ``080`` + the number."""
    return f"080{number:03d}"
