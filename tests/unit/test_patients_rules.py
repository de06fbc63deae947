from __future__ import annotations

from datetime import date

import pytest

from tuibill.domain.act_notation import parse_act
from tuibill.domain.errors import ValidationError
from tuibill.domain.invoice_rules import check_act_date
from tuibill.domain.patients import check_nir, nir_key


def test_nir_key_is_checked_with_stdnum() -> None:
    good = "1850578006048" + nir_key("1850578006048")
    assert check_nir(good[:5] + " " + good[5:]) == good
    bad = good[:-2] + f"{(int(good[-2:]) + 1) % 97:02d}"
    with pytest.raises(ValidationError, match="Clé du NIR invalide") as info:
        check_nir(bad)
    assert info.value.field == "nir"
    with pytest.raises(ValidationError, match="15 caractères"):
        check_nir("12345")


def test_corsica_nir() -> None:
    first13 = "185052A006048"
    assert check_nir(first13 + nir_key(first13)).startswith("185052A")


def test_act_date_rules() -> None:
    billing, prescribed, death = date(2026, 11, 20), date(2026, 11, 1), date(2026, 11, 15)
    check_act_date(date(2026, 11, 10), billing_date=billing, prescription_date=prescribed, death_date=death)
    with pytest.raises(ValidationError, match="postérieure à la date de facturation"):
        check_act_date(date(2026, 11, 21), billing_date=billing, prescription_date=None, death_date=None)
    with pytest.raises(ValidationError, match="antérieure à la date de prescription"):
        check_act_date(date(2026, 10, 31), billing_date=billing, prescription_date=prescribed, death_date=None)
    with pytest.raises(ValidationError, match="date de décès"):
        check_act_date(date(2026, 11, 16), billing_date=billing, prescription_date=None, death_date=death)


def test_act_notation() -> None:
    spec = parse_act("20/11/2026 08:30 AMI 1,5 MAU IFD IK=4")
    assert (spec.act_date, spec.code, spec.coefficient_x100) == (date(2026, 11, 20), "AMI", 150)
    assert spec.act_time.hour == 8 and spec.majorations == ("MAU",)
    assert spec.home_visit and spec.mileage_km == 4
    assert parse_act("2026-11-20 ais 3").code == "AIS"
    assert parse_act("20/11/2026 7h45 AMI").act_time.minute == 45
    for bad in ("AMI", "32/11/2026 AMI", "20/11/2026 AMI 1 FOO", "20/11/2026 AMI IK=x"):
        with pytest.raises(ValidationError):
            parse_act(bad)


# --- issue 13 #8: the NIR says the birth year and month -------------------------------------


def test_an_assures_nir_must_carry_the_birth_year_and_month() -> None:
    from datetime import date

    from tuibill.domain.errors import ValidationError
    from tuibill.domain.patients import check_nir_birth, nir_key

    first13 = "2820328123456"  # born 03/1982
    nir = first13 + nir_key(first13)
    check_nir_birth(nir, date(1982, 3, 15))
    with pytest.raises(ValidationError, match="03/1985|pas celles du patient") as info:
        check_nir_birth(nir, date(1985, 3, 15))  # the case: 282037… with 15/03/1985
    assert info.value.field == "nir"
    with pytest.raises(ValidationError):
        check_nir_birth(nir, date(1982, 4, 15))
    # A child known under the parent's NIR passes; under a stranger's, it does not.
    check_nir_birth(nir, date(2015, 6, 1), insured_nir=nir)
    with pytest.raises(ValidationError, match="NIR de son assuré"):
        check_nir_birth(nir, date(2015, 6, 1), insured_nir="1" + nir[1:])


@pytest.mark.parametrize("month", ["20", "35", "62"])
def test_a_nir_month_outside_the_calendar_cannot_be_checked(month) -> None:
    from datetime import date

    from tuibill.domain.patients import nir_matches_birth

    assert nir_matches_birth(f"182{month}28123456", date(1982, 7, 1))
