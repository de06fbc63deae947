"""The FSE in tuibill's lot file: its record group (types 10, 11, 20, 30, 31) and its rules.

One FSE is an identity record (10), a coverage record (11), its act lines (20) and its signature
(30, then 31 records carrying the signature in base64). The group is written, checked and read
here; the file around it (header, trailer, the FSE's order) is ``tuibill.formats.lot_file``'s.
Specified in ``docs/formats/lot-file.md``. The bytes a card signs for an FSE are its records 10,
11 and 20 as written here (:func:`signing_payload`).
"""

from __future__ import annotations

import base64

from tuibill.domain.patients import QUALITIES
from tuibill.domain.pricing import line_total_cents
from tuibill.formats.codec import (
    SIGNATURE_ALGORITHMS,
    SIGNATURE_NONE,
    CaisseCode,
    CardType,
    FseLine,
    FseMode,
    FseRecord,
    FseSignature,
)
from tuibill.formats.errors import FormatError
from tuibill.formats.lot_family import (
    PS_NUMBER_PATTERN,
    caisse_fields,
    caisse_from,
    continuation_record,
    read_continuation,
)
from tuibill.formats.records import (
    Choice,
    Code,
    DateKind,
    Field,
    Filler,
    Flag,
    Number,
    RecordSpec,
    Text,
    TimeKind,
    expect_record,
    join_records,
)

MAX_SIGNATURE_BYTES = 1024
SIGNATURE_CHUNK = 120


def _signature_chunk_count(length: int) -> int:
    """Records 31 needed for *length* bytes: ⌈⌈length ÷ 3⌉ × 4 ÷ 120⌉ base64 pieces."""
    base64_length = -(-length // 3) * 4
    return -(-base64_length // SIGNATURE_CHUNK)


MAX_SIGNATURE_CHUNKS = _signature_chunk_count(MAX_SIGNATURE_BYTES)

PS_NUMBER = Code(PS_NUMBER_PATTERN, "9 chiffres (AM) ou 11 (RPPS)", optional=True)


def _nir_key_problem(value: str) -> str | None:
    number = int(value[:13].replace("2A", "19").replace("2B", "18"))
    expected = 97 - number % 97
    if int(value[13:]) != expected:
        return f"clé du NIR {value[13:]} fausse (attendue : {expected:02d})"
    return None


def _amounts(prefix: str = "") -> list[Field]:
    return [
        Field("total_cents", f"montant total{prefix}", 9, Number(0, 999_999_999)),
        Field("amo_cents", f"part AMO{prefix}", 9, Number(0, 999_999_999)),
        Field("amc_cents", f"part AMC{prefix}", 9, Number(0, 999_999_999)),
        Field("patient_cents", f"part patient{prefix}", 9, Number(0, 999_999_999)),
    ]


FSE_IDENTITY = RecordSpec(
    "10",
    "en-tête de FSE, bénéficiaire",
    [
        Field("invoice_number", "numéro de facture", 9, Number(1, 999_999_999)),
        Field(
            "mode",
            "mode de la FSE",
            1,
            Choice(
                [("V", FseMode.SESAM_VITALE, "SESAM-Vitale"), ("D", FseMode.DEGRADE, "dégradé")]
            ),
        ),
        Field("billing_date", "date de facturation", 8, DateKind()),
        Field("patient_last_name", "nom du bénéficiaire", 40, Text()),
        Field("patient_first_name", "prénom du bénéficiaire", 30, Text()),
        Field("birth_date", "date de naissance", 8, DateKind()),
        Field(
            "nir",
            "NIR",
            15,
            Code(
                r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}",
                "13 caractères (chiffres, 2A/2B pour la Corse) et une clé de 2 chiffres juste",
                check=_nir_key_problem,
            ),
        ),
        Field("rank", "rang de naissance", 1, Number(1, 9)),
        Field(
            "quality",
            "qualité du bénéficiaire",
            2,
            Choice([(code, code, label) for code, label in QUALITIES.items()]),
        ),
        Field("filler", "réservé", 12, Filler()),
    ],
)

FSE_COVERAGE = RecordSpec(
    "11",
    "en-tête de FSE, prise en charge",
    [
        *caisse_fields("amo", "régime AMO", "caisse AMO", "centre AMO"),
        Field(
            "amc_number",
            "numéro AMC",
            10,
            Code(r"[A-Z0-9]{1,10}", "1 à 10 de A-Z 0-9", optional=True),
        ),
        Field("amo_tiers_payant", "tiers payant AMO", 1, Flag()),
        Field("amc_tiers_payant", "tiers payant AMC", 1, Flag()),
        Field("amo_rate", "taux AMO", 3, Number(0, 100)),
        Field(
            "prescriber_number",
            "numéro du prescripteur",
            11,
            PS_NUMBER,
        ),
        Field("prescription_date", "date de prescription", 8, DateKind(optional=True)),
        *_amounts(" de la FSE"),
        Field("line_count", "nombre de lignes d'acte", 3, Number(1, 999)),
        Field("filler", "réservé", 44, Filler()),
    ],
)

ACT_LINE = RecordSpec(
    "20",
    "ligne d'acte",
    [
        Field("line_number", "numéro de ligne", 3, Number(1, 999)),
        Field("act_date", "date de l'acte", 8, DateKind()),
        Field("act_time", "heure de l'acte", 4, TimeKind()),
        Field("code", "code acte", 8, Code(r"[A-Z0-9]{1,8}", "1 à 8 de A-Z 0-9")),
        Field("coefficient_x100", "coefficient (centièmes)", 5, Number(1, 99_999)),
        Field("quantity", "quantité", 4, Number(1, 9_999)),
        Field("unit_cents", "prix unitaire", 9, Number(0, 999_999_999)),
        *_amounts(),
        # A regularisation line (seed 001: the refused amount credited at the next billing run)
        # carries its amounts negated: written as positive numbers with « N » here.
        Field(
            "sign",
            "signe des montants",
            1,
            Choice([("N", "N", "montants négatifs (ligne de régularisation)")], optional=True),
        ),
        Field("filler", "réservé", 48, Filler()),
    ],
)

SIGNATURE = RecordSpec(
    "30",
    "signature",
    [
        Field(
            "card_type",
            "type de carte",
            3,
            Choice(
                [
                    ("CPS", CardType.CPS, "carte du PS"),
                    ("CPE", CardType.CPE, "carte d'établissement"),
                ],
                optional=True,
            ),
        ),
        Field(
            "algorithm",
            "algorithme",
            12,
            Choice([(name, name, "") for name in SIGNATURE_ALGORITHMS]),
        ),
        Field(
            "signer",
            "signataire",
            11,
            PS_NUMBER,
        ),
        Field("length", "longueur de la signature (octets)", 4, Number(0, MAX_SIGNATURE_BYTES)),
        Field(
            "chunk_count", "nombre d'enregistrements de suite", 2, Number(0, MAX_SIGNATURE_CHUNKS)
        ),
        Field("filler", "réservé", 94, Filler()),
    ],
)

SIGNATURE_PART = continuation_record(
    "31",
    "suite de signature",
    MAX_SIGNATURE_CHUNKS,
    Field(
        "chunk",
        "morceau de signature (base64)",
        SIGNATURE_CHUNK,
        Code(r"[A-Za-z0-9+/=]{1,120}", "base64 standard, 120 caractères sauf le dernier morceau"),
    ),
)

FSE_RECORDS = (FSE_IDENTITY, FSE_COVERAGE, ACT_LINE, SIGNATURE, SIGNATURE_PART)


# Records written as runs of fields whose values repeat apart (see records.FieldRun): a lot of
# 10,000 FSE has some 200 patients, 1,500 coverages and a few hundred acts priced alike, so
# most runs are a text already made; only the invoice number is new on every FSE (its run is
# not kept: it would keep one text per FSE).
_IDENTITY_HEAD = FSE_IDENTITY.run("type", "invoice_number")
_IDENTITY_WHEN = FSE_IDENTITY.run("mode", "billing_date", keep=True)
_IDENTITY_PATIENT = FSE_IDENTITY.run("patient_last_name", "filler", keep=True)
_COVERAGE = FSE_COVERAGE.run("type", "filler", keep=True)
_LINE_WHEN = ACT_LINE.run("type", "act_time", keep=True)
_LINE_ACT = ACT_LINE.run("code", "filler", keep=True)
_SIGNATURE = SIGNATURE.run("type", "filler", keep=True)


# The act lines of a lot are mostly objects shared between its FSE (services.lot_content makes
# each distinct line once): each line's record at a position, and that its amounts hold, are
# kept per object — by identity, the object kept with it so that its identity is not reused.
_LINE_RECORDS: dict[tuple[int, int], tuple[FseLine, str]] = {}
_LINES_CHECKED: dict[int, FseLine] = {}
_LINES_KEPT = 16_384  # then forgotten all at once
_UNSIGNED_RECORDS: dict[int, tuple[FseSignature, list[str]]] = {}  # the same, for signatures


def encode_fse(fse: object, first: int) -> list[str]:
    """One FSE's records (field rules only; see :func:`check_fse`); *first*: its record 10's number."""
    records: list[str] = []
    write_fse(records, fse, first)
    return records


def write_fse(records: list[str], fse: object, first: int) -> None:
    """:func:`encode_fse`, appended to *records* (a lot's: no list made per FSE)."""
    if not isinstance(fse, FseRecord):
        raise FSE_IDENTITY.error(first, "type", "une FseRecord est attendue", writing=True)
    append = records.append
    append(
        _IDENTITY_HEAD.encode((fse.invoice_number,), first)
        + _IDENTITY_WHEN.encode((fse.mode, fse.billing_date), first)
        + _IDENTITY_PATIENT.encode(
            (
                fse.patient_last_name,
                fse.patient_first_name,
                fse.birth_date,
                fse.nir,
                fse.rank,
                fse.quality,
            ),
            first,
        )
    )
    amo = fse.amo
    if not isinstance(amo, CaisseCode):
        raise FSE_COVERAGE.error(first + 1, "amo_regime", "un CaisseCode est attendu", writing=True)
    try:
        lines = tuple(fse.lines)
    except TypeError:
        raise FSE_COVERAGE.error(
            first + 1, "line_count", "une suite de FseLine est attendue", writing=True
        ) from None
    append(
        _COVERAGE.encode(
            (
                amo.regime,
                amo.caisse,
                amo.centre,
                fse.amc_number,
                fse.amo_tiers_payant,
                fse.amc_tiers_payant,
                fse.amo_rate,
                fse.prescriber_number,
                fse.prescription_date,
                fse.total_cents,
                fse.amo_cents,
                fse.amc_cents,
                fse.patient_cents,
                len(lines),
            ),
            first + 1,
        )
    )
    kept = _LINE_RECORDS
    for position, line in enumerate(lines, 2):  # the record's place in the FSE
        known = kept.get((id(line), position))
        if known is not None and known[0] is line:
            append(known[1])
            continue
        number = first + position
        if not isinstance(line, FseLine):
            raise ACT_LINE.error(number, "type", "une FseLine est attendue", writing=True)
        total = line.total_cents
        if total < 0:  # a regularisation line: its amounts written positive, signed « N »
            act = (line.code, line.coefficient_x100, line.quantity, line.unit_cents, -total,
                   abs(line.amo_cents), abs(line.amc_cents), abs(line.patient_cents), "N")  # fmt: skip
        else:
            act = (line.code, line.coefficient_x100, line.quantity, line.unit_cents, total,
                   line.amo_cents, line.amc_cents, line.patient_cents, None)  # fmt: skip
        text = _LINE_WHEN.encode((position - 1, line.act_date, line.act_time), number)
        text += _LINE_ACT.encode(act, number)
        if len(kept) >= _LINES_KEPT:
            kept.clear()
        kept[id(line), position] = (line, text)
        append(text)
    number = first + len(lines) + 2
    signature = fse.signature
    known = _UNSIGNED_RECORDS.get(id(signature))
    if known is not None and known[0] is signature:
        records.extend(known[1])  # nothing in them depends on the FSE
        return
    if not isinstance(signature, FseSignature):
        raise SIGNATURE.error(number, "type", "une FseSignature est attendue", writing=True)
    if not isinstance(signature.value, bytes):
        raise SIGNATURE.error(
            number, "length", "la signature doit être faite d'octets", writing=True
        )
    text = base64.b64encode(signature.value).decode("ascii")
    chunks = [text[i : i + SIGNATURE_CHUNK] for i in range(0, len(text), SIGNATURE_CHUNK)]
    append(
        _SIGNATURE.encode(
            (
                signature.card_type,
                signature.algorithm,
                signature.signer,
                len(signature.value),
                len(chunks),
            ),
            number,
        )
    )
    for sequence, chunk in enumerate(chunks, 1):
        append(SIGNATURE_PART.encode({"sequence": sequence, "chunk": chunk}, number + sequence))
    if not signature.value:  # the unsigned FSE of a lot share theirs (a signature is unique)
        if len(_UNSIGNED_RECORDS) >= 64:
            _UNSIGNED_RECORDS.clear()
        _UNSIGNED_RECORDS[id(signature)] = (signature, records[-1 - len(chunks) :])


def check_fse(fse: FseRecord, destination: CaisseCode, first: int, *, writing: bool) -> None:
    """The rules between the fields and records of one FSE in a lot for *destination*, the
    same for writer and reader; *first* is the number of its record 10."""
    coverage = first + 1

    def fail(spec: RecordSpec, number: int, name: str, reason: str) -> FormatError:
        return spec.error(number, name, reason, writing=writing)

    if fse.amo is not destination and fse.amo.destination != destination.destination:
        raise fail(
            FSE_COVERAGE,
            coverage,
            "amo_caisse",
            f"organisme AMO {fse.amo.regime} {fse.amo.caisse} différent de la destination du lot "
            f"{destination.regime} {destination.caisse}",
        )
    if (fse.prescriber_number is None) != (fse.prescription_date is None):
        missing = (
            "numéro du prescripteur" if fse.prescriber_number is None else "date de prescription"
        )
        name = "prescriber_number" if fse.prescriber_number is None else "prescription_date"
        raise fail(FSE_COVERAGE, coverage, name, f"{missing} absent alors que l'autre est donné")
    if fse.amc_number is None and fse.amc_tiers_payant:
        raise fail(FSE_COVERAGE, coverage, "amc_tiers_payant", "tiers payant AMC sans numéro AMC")
    if fse.amc_number is None and fse.amc_cents:
        raise fail(FSE_COVERAGE, coverage, "amc_cents", "part AMC sans numéro AMC")

    # The FSE's amounts are summed in the same pass as the lines are checked (one pass, not
    # one per amount: a lot checks some 30,000 lines).
    total = amo = amc = patient = 0
    checked = _LINES_CHECKED
    for position, line in enumerate(fse.lines, 1):
        total += line.total_cents
        amo += line.amo_cents
        amc += line.amc_cents
        patient += line.patient_cents
        if checked.get(id(line)) is line:
            continue
        number = coverage + position
        shares = line.amo_cents + line.amc_cents + line.patient_cents
        if shares != line.total_cents:
            raise fail(
                ACT_LINE,
                number,
                "total_cents",
                f"{line.total_cents} différent de AMO + AMC + patient ({shares})",
            )
        expected = line_total_cents(line.unit_cents, line.coefficient_x100, line.quantity)
        if expected != abs(line.total_cents):
            raise fail(
                ACT_LINE,
                number,
                "total_cents",
                f"{line.total_cents} différent de prix unitaire × coefficient × quantité ({expected})",
            )
        if writing:  # lines read from a file are new objects, not worth keeping
            if len(checked) >= _LINES_KEPT:
                checked.clear()
            checked[id(line)] = line
    stated = (fse.total_cents, fse.amo_cents, fse.amc_cents, fse.patient_cents)
    summed = (total, amo, amc, patient)
    if stated != summed:  # rarely: then name the first amount that differs
        names = ("total_cents", "amo_cents", "amc_cents", "patient_cents")
        for name, value, lines_sum in zip(names, stated, summed, strict=True):
            if value != lines_sum:
                raise fail(
                    FSE_COVERAGE,
                    coverage,
                    name,
                    f"{value} différent de la somme des lignes ({lines_sum})",
                )

    number = coverage + len(fse.lines) + 1
    signature = fse.signature
    if not signature.signed:
        if fse.mode == FseMode.SESAM_VITALE:
            raise fail(SIGNATURE, number, "algorithm", "une FSE SESAM-Vitale doit être signée")
        if signature.card_type is None and signature.signer is None and not signature.value:
            return  # nearly every unsigned FSE: then nothing to name
        for name, value in (
            ("card_type", signature.card_type),
            ("signer", signature.signer),
            ("length", signature.value or None),
        ):
            if value is not None:
                raise fail(
                    SIGNATURE,
                    number,
                    name,
                    f"renseigné alors que l'algorithme est {SIGNATURE_NONE}",
                )
    else:
        for name, value in (
            ("card_type", signature.card_type),
            ("signer", signature.signer),
            ("length", signature.value or None),
        ):
            if value is None:
                raise fail(SIGNATURE, number, name, "absent alors que la FSE est signée")


def read_fse(records: list[str], index: int) -> tuple[FseRecord, int]:
    """Read the FSE whose record 10 is at *index*; return it and the index after it.

    The caller guarantees the last record is a trailer (type 90), so every expectation below
    fails on it at the latest: no index runs past the end.
    """
    identity = expect_record(records, index, FSE_IDENTITY, "un en-tête de FSE ou la fin de lot")
    coverage = expect_record(
        records, index + 1, FSE_COVERAGE, "l'en-tête de prise en charge de la FSE"
    )
    index += 2
    lines = []
    for position in range(1, coverage["line_count"] + 1):
        values = expect_record(records, index, ACT_LINE, f"la ligne d'acte {position}")
        if values["line_number"] != position:
            raise ACT_LINE.error(
                index + 1, "line_number", f"{values['line_number']} au lieu de {position}"
            )
        sign = -1 if values.get("sign") == "N" else 1
        lines.append(
            FseLine(
                act_date=values["act_date"],
                act_time=values["act_time"],
                code=values["code"],
                coefficient_x100=values["coefficient_x100"],
                quantity=values["quantity"],
                unit_cents=values["unit_cents"],
                total_cents=sign * values["total_cents"],
                amo_cents=sign * values["amo_cents"],
                amc_cents=sign * values["amc_cents"],
                patient_cents=sign * values["patient_cents"],
            )
        )
        index += 1
    signature, index = _read_signature(records, index)
    fse = FseRecord(
        invoice_number=identity["invoice_number"],
        mode=identity["mode"],
        billing_date=identity["billing_date"],
        patient_last_name=identity["patient_last_name"],
        patient_first_name=identity["patient_first_name"],
        birth_date=identity["birth_date"],
        nir=identity["nir"],
        rank=identity["rank"],
        quality=identity["quality"],
        amo=caisse_from(coverage, "amo"),
        amc_number=coverage["amc_number"],
        amo_tiers_payant=coverage["amo_tiers_payant"],
        amc_tiers_payant=coverage["amc_tiers_payant"],
        amo_rate=coverage["amo_rate"],
        prescriber_number=coverage["prescriber_number"],
        prescription_date=coverage["prescription_date"],
        total_cents=coverage["total_cents"],
        amo_cents=coverage["amo_cents"],
        amc_cents=coverage["amc_cents"],
        patient_cents=coverage["patient_cents"],
        lines=tuple(lines),
        signature=signature,
    )
    return fse, index


def _read_signature(records: list[str], index: int) -> tuple[FseSignature, int]:
    head = expect_record(records, index, SIGNATURE, "la signature de la FSE")
    number = index + 1
    length: int = head["length"]
    expected_chunks = _signature_chunk_count(length)
    if head["chunk_count"] != expected_chunks:
        raise SIGNATURE.error(
            number,
            "chunk_count",
            f"{head['chunk_count']} au lieu de {expected_chunks} pour {length} octets",
        )
    chunks = []
    for sequence in range(1, expected_chunks + 1):
        index += 1
        what = f"la suite de signature {sequence}"
        chunk = read_continuation(records, index, SIGNATURE_PART, sequence, what)
        if sequence < expected_chunks and len(chunk) != SIGNATURE_CHUNK:
            raise SIGNATURE_PART.error(
                index + 1, "chunk", f"{len(chunk)} caractères au lieu de {SIGNATURE_CHUNK}"
            )
        chunks.append(chunk)
    text = "".join(chunks)
    value = b""
    if text:
        try:
            value = base64.b64decode(text, validate=True)
        except ValueError:
            raise SIGNATURE_PART.error(index + 1, "chunk", "base64 invalide") from None
        if len(value) != length or base64.b64encode(value).decode("ascii") != text:
            raise SIGNATURE_PART.error(
                index + 1,
                "chunk",
                f"base64 de {len(value)} octets ou non canonique, {length} annoncés",
            )
    signature = FseSignature(
        algorithm=head["algorithm"],
        signer=head["signer"],
        card_type=head["card_type"],
        value=value,
    )
    return signature, index + 1


def signing_payload(fse: FseRecord) -> bytes:
    """The bytes a card signs for *fse*: its records 10, 11 and 20 as they are written.

    They do not depend on the lot, so an FSE can be signed when it is validated, long before it
    is put in a lot. The signature itself stays opaque to the reader (form only).
    """
    records = encode_fse(fse, 1)
    return join_records(records[: 2 + len(tuple(fse.lines))])
