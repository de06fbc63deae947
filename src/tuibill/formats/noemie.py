"""NOEMIE PS returns (the caisses' payments and rejections): strict reader and writer.

The layout is public (``/work/shared/formats/noemie-ps.md``); tuibill's reading of it, what is
checked, the conventions and the API are in ``docs/formats/noemie-ps.md``. The pieces:
:mod:`~tuibill.formats.noemie_layout` (the entity tables), :mod:`~tuibill.formats.noemie_content`
(the dataclasses), :mod:`~tuibill.formats.noemie_reader` and
:mod:`~tuibill.formats.noemie_writer`. Import from here.
"""

from __future__ import annotations

from tuibill.formats.noemie_content import (
    ActLine,
    AmcPart,
    AmoPart,
    Archive,
    Comment,
    Control,
    FlatPayment,
    FlatPaymentDetail,
    InsuranceNature,
    Insured,
    InsuredPatient,
    Lot,
    NoemieReturn,
    Patient,
    Placed,
    Rejection,
    ReturnHeader,
    ReturnInvoice,
    Signalement,
    Virement,
    Withholding,
)
from tuibill.formats.noemie_reader import NoemieFormatError, read_return
from tuibill.formats.noemie_writer import write_return

__all__ = [
    "ActLine",
    "AmcPart",
    "AmoPart",
    "Archive",
    "Comment",
    "Control",
    "FlatPayment",
    "FlatPaymentDetail",
    "InsuranceNature",
    "Insured",
    "InsuredPatient",
    "Lot",
    "NoemieFormatError",
    "NoemieReturn",
    "Patient",
    "Placed",
    "Rejection",
    "ReturnHeader",
    "ReturnInvoice",
    "Signalement",
    "Virement",
    "Withholding",
    "is_noemie_return",
    "read_return",
    "write_return",
]


def is_noemie_return(data: bytes) -> bool:
    """Whether *data* looks like a NOEMIE return (to dispatch files by kind; not a check)."""
    return (
        isinstance(data, bytes)
        and len(data) >= 256
        and len(data) % 128 == 0
        and data[:3] == b"000"
        and data[82:85] == b"128"
    )
