"""Sample lots and ARLs, hypothesis strategies and file surgery shared by the format tests."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, time

from hypothesis import strategies as st

from tuibill.domain.cards import CardType
from tuibill.domain.pricing import line_total_cents
from tuibill.formats import arl as arl_format
from tuibill.formats import fse_records, lot_file
from tuibill.formats.codec import (
    Arl,
    ArlStatus,
    CaisseCode,
    FseLine,
    FseMode,
    FseRecord,
    FseSignature,
    LotFile,
    LotHeader,
)
from tuibill.formats.records import FRAME, PRINTABLE, RECORD_WIDTH, RecordSpec, utf8_problem

AM = "123456789"
DESTINATION = CaisseCode("01", "281", "0000")


def nir_with_key(first13: str) -> str:
    number = int(first13.replace("2A", "19").replace("2B", "18"))
    return f"{first13}{97 - number % 97:02d}"


def make_line(
    code: str,
    unit: int,
    *,
    coefficient: int = 100,
    quantity: int = 1,
    rate: int = 60,
    amc: bool = False,
    day: date = date(2025, 3, 3),
    at: time | None = None,
) -> FseLine:
    total = line_total_cents(unit, coefficient, quantity)
    amo = (2 * total * rate + 100) // 200
    rest = total - amo
    return FseLine(
        act_date=day,
        code=code,
        coefficient_x100=coefficient,
        quantity=quantity,
        unit_cents=unit,
        total_cents=total,
        amo_cents=amo,
        amc_cents=rest if amc else 0,
        patient_cents=0 if amc else rest,
        act_time=at,
    )


def make_fse(number: int, lines: tuple[FseLine, ...], **changes: object) -> FseRecord:
    fse = FseRecord(
        invoice_number=number,
        mode=FseMode.DEGRADE,
        billing_date=date(2025, 3, 4),
        patient_last_name="DUPUIS",
        patient_first_name="Alain",
        birth_date=date(1948, 11, 2),
        nir=nir_with_key("1481128123045"),
        rank=1,
        quality="00",
        amo=CaisseCode("01", "281", "0001"),
        amo_tiers_payant=True,
        amc_tiers_payant=False,
        amo_rate=60,
        total_cents=sum(line.total_cents for line in lines),
        amo_cents=sum(line.amo_cents for line in lines),
        amc_cents=sum(line.amc_cents for line in lines),
        patient_cents=sum(line.patient_cents for line in lines),
        lines=lines,
    )
    return replace(fse, **changes)


def sample_signature(length: int = 256) -> bytes:
    """Deterministic bytes standing for a CPS signature (RSA-2048 is 256 bytes)."""
    out = b""
    seed = b"tuibill"
    while len(out) < length:
        seed = hashlib.sha256(seed).digest()
        out += seed
    return out[:length]


def sample_lot() -> LotFile:
    """The lot of the specification's example: one FSE in mode dégradé, one SESAM-Vitale."""
    degrade = make_fse(
        7433,
        (
            make_line("AMI", 315, coefficient=300, amc=True, at=time(8, 30)),
            make_line("IFD", 275, amc=True, at=time(8, 30)),
            make_line("IK", 35, quantity=12, amc=True),
        ),
        amc_number="75500017",
        amc_tiers_payant=True,
        prescriber_number="591030325",
        prescription_date=date(2025, 2, 20),
    )
    vitale = make_fse(
        7434,
        (make_line("AMI", 315, coefficient=150, rate=100, day=date(2025, 3, 4), at=time(20, 15)),),
        mode=FseMode.SESAM_VITALE,
        patient_last_name="SIMON",
        patient_first_name="Pascale",
        birth_date=date(1961, 6, 30),
        nir=nir_with_key("2610675056012"),
        amo_rate=100,
        signature=FseSignature("RSA-SHA256", AM, CardType.CPS, sample_signature()),
    )
    header = LotHeader(
        sender_id=AM,
        sender_name="Cabinet infirmier des Épars",
        practitioner_am=AM,
        destination=DESTINATION,
        lot_number=695,
        created_at=datetime(2025, 3, 5, 18, 42, 7),
        software_name="tuibill",
        software_version="0.1.0",
    )
    return LotFile(header=header, fses=(degrade, vitale))


def sample_arl(*, positive: bool = True, lot_data: bytes = b"") -> Arl:
    lot_data = lot_data or lot_file.TuibillLotCodec().write(sample_lot())
    base = Arl(
        emitter=DESTINATION,
        created_at=datetime(2025, 3, 5, 19, 3, 51),
        sender_id=AM,
        practitioner_am=AM,
        lot_number=695,
        lot_checksum=hashlib.sha256(lot_data).hexdigest(),
        status=ArlStatus.POSITIVE,
    )
    if positive:
        return base
    return replace(
        base,
        status=ArlStatus.NEGATIVE,
        reason_code=arl_format.REASON_CHECKSUM,
        reason_label=arl_format.ARL_REASONS[arl_format.REASON_CHECKSUM],
        detail="Enregistrement 15 (type 90, fin de lot), champ « empreinte SHA-256 » (positions 63 "
        "à 126) : l'empreinte du contenu est d13a1e079e90622c..., pas 6a9c017f2be13c3a... (fichier "
        "altéré ou tronqué en route).",
    )


# --- file surgery ---------------------------------------------------------------------------


def records_of(data: bytes) -> list[str]:
    return [data[i : i + RECORD_WIDTH].decode("latin-1") for i in range(0, len(data), FRAME)]


def from_records(records: list[str]) -> bytes:
    return "".join(record + "\n" for record in records).encode("latin-1")


def reseal(data: bytes, trailer: RecordSpec) -> bytes:
    """Recompute the trailer's checksum after a mutation, so the reader looks past it."""
    if len(data) % FRAME or not data or data[-FRAME : -FRAME + 2] != trailer.code.encode():
        return data
    offset = len(data) - FRAME + trailer.starts["checksum"]
    digest = hashlib.sha256(data[:offset]).hexdigest().encode()
    return data[:offset] + digest + data[offset + 64 :]


def patch(
    data: bytes,
    record: int,
    position: int,
    text: str,
    trailer: RecordSpec,
    *,
    sealed: bool = True,
) -> bytes:
    """Overwrite *text* at 1-based *position* of 1-based *record*, then reseal (if *sealed*)."""
    records = records_of(data)
    line = records[record - 1]
    records[record - 1] = line[: position - 1] + text + line[position - 1 + len(text) :]
    patched = from_records(records)
    return reseal(patched, trailer) if sealed else patched


# --- hypothesis strategies ------------------------------------------------------------------

_PRINTABLE_CHARS = [chr(c) for c in range(0x20, 0x100) if PRINTABLE.fullmatch(chr(c))]


def texts(max_size: int) -> st.SearchStrategy[str]:
    return (
        st.text(alphabet=st.sampled_from(_PRINTABLE_CHARS), min_size=1, max_size=max_size)
        .map(lambda s: s.strip(" "))
        .filter(lambda s: bool(s) and utf8_problem(s) is None)  # written as UTF-8: refused
    )


DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + DIGITS
HEX = "0123456789abcdef"


def codes(alphabet: str, min_size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Codes from a fixed alphabet (faster to generate than ``from_regex``)."""
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size or min_size)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
timestamps = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
).map(lambda moment: moment.replace(microsecond=0))
ps_numbers = st.one_of(codes(DIGITS, 9), codes(DIGITS, 11))


@st.composite
def lines(draw: st.DrawFn, has_amc: bool) -> FseLine:
    unit = draw(st.integers(0, 100_000))
    coefficient = draw(st.integers(1, 5_000))
    quantity = draw(st.integers(1, 20))
    total = line_total_cents(unit, coefficient, quantity)
    amo = draw(st.integers(0, total))
    amc = draw(st.integers(0, total - amo)) if has_amc else 0
    return FseLine(
        act_date=draw(dates),
        act_time=draw(st.none() | st.times().map(lambda t: time(t.hour, t.minute))),
        code=draw(codes(UPPER, 1, 8)),
        coefficient_x100=coefficient,
        quantity=quantity,
        unit_cents=unit,
        total_cents=total,
        amo_cents=amo,
        amc_cents=amc,
        patient_cents=total - amo - amc,
    )


@st.composite
def signatures(draw: st.DrawFn, required: bool) -> FseSignature:
    if not required and draw(st.booleans()):
        return FseSignature.unsigned()
    return FseSignature(
        algorithm=draw(st.sampled_from(["RSA-SHA256", "RSA-SHA1", "ECDSA-SHA256"])),
        signer=draw(ps_numbers),
        card_type=draw(st.sampled_from([CardType.CPS, CardType.CPE])),
        value=draw(st.binary(min_size=1, max_size=fse_records.MAX_SIGNATURE_BYTES)),
    )


@st.composite
def fses(draw: st.DrawFn, destination: CaisseCode, number: int) -> FseRecord:
    amc_number = draw(st.none() | codes(UPPER, 1, 10))
    fse_lines = tuple(draw(st.lists(lines(amc_number is not None), min_size=1, max_size=3)))
    mode = draw(st.sampled_from(list(FseMode)))
    prescribed = draw(st.booleans())
    first13 = (
        draw(codes(DIGITS, 5))
        + draw(st.sampled_from(["2A", "2B"]) | codes(DIGITS, 2))
        + draw(codes(DIGITS, 6))
    )
    return FseRecord(
        invoice_number=number,
        mode=mode,
        billing_date=draw(dates),
        patient_last_name=draw(texts(40)),
        patient_first_name=draw(texts(30)),
        birth_date=draw(dates),
        nir=nir_with_key(first13),
        rank=draw(st.integers(1, 9)),
        quality=draw(st.sampled_from(["00", "01", "02", "06", "10"])),
        amo=CaisseCode(destination.regime, destination.caisse, draw(codes(DIGITS, 4))),
        amc_number=amc_number,
        amo_tiers_payant=draw(st.booleans()),
        amc_tiers_payant=amc_number is not None and draw(st.booleans()),
        amo_rate=draw(st.integers(0, 100)),
        prescriber_number=draw(ps_numbers) if prescribed else None,
        prescription_date=draw(dates) if prescribed else None,
        total_cents=sum(line.total_cents for line in fse_lines),
        amo_cents=sum(line.amo_cents for line in fse_lines),
        amc_cents=sum(line.amc_cents for line in fse_lines),
        patient_cents=sum(line.patient_cents for line in fse_lines),
        lines=fse_lines,
        signature=draw(signatures(mode == FseMode.SESAM_VITALE)),
    )


@st.composite
def lots(draw: st.DrawFn) -> LotFile:
    destination = CaisseCode(draw(codes(DIGITS, 2)), draw(codes(DIGITS, 3)), draw(codes(DIGITS, 4)))
    numbers = draw(st.lists(st.integers(1, 999_999_999), min_size=1, max_size=2, unique=True))
    header = LotHeader(
        sender_id=draw(codes(UPPER, 1, 14)),
        sender_name=draw(texts(30)),
        practitioner_am=draw(codes(DIGITS, 9)),
        destination=destination,
        lot_number=draw(st.integers(1, 999)),
        created_at=draw(timestamps),
        software_name=draw(texts(20)),
        software_version=draw(texts(10)),
    )
    return LotFile(header=header, fses=tuple(draw(fses(destination, n)) for n in numbers))


@st.composite
def arls(draw: st.DrawFn) -> Arl:
    positive = draw(st.booleans())
    detail = None
    if not positive and draw(st.booleans()):
        detail = draw(
            st.text(alphabet=st.sampled_from(_PRINTABLE_CHARS), min_size=1, max_size=1080)
            .map(lambda s: s.strip(" "))
            .filter(lambda s: bool(s) and utf8_problem(s) is None)
        )
    return Arl(
        emitter=CaisseCode(draw(codes(DIGITS, 2)), draw(codes(DIGITS, 3)), draw(codes(DIGITS, 4))),
        created_at=draw(timestamps),
        sender_id=draw(st.none() | codes(UPPER, 1, 14)),
        practitioner_am=draw(codes(DIGITS, 9)),
        lot_number=draw(st.integers(1, 999)),
        lot_checksum=draw(codes(HEX, 64)),
        status=ArlStatus.POSITIVE if positive else ArlStatus.NEGATIVE,
        reason_code=None if positive else draw(codes(UPPER, 3)),
        reason_label=None if positive else draw(texts(80)),
        detail=detail,
    )
