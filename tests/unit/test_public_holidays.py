"""France's public holidays, held equal to the ``holidays`` package (a test dependency only)."""

from __future__ import annotations


def test_french_holidays_are_those_of_the_holidays_package() -> None:
    # The package is the reference (it follows the law); public_holidays computes the same days without
    # importing it (every country's calendar, ~13 MB, issue 12).
    import holidays

    from tuibill.domain.public_holidays import french_holidays

    for year in range(1800, 2101):  # the package lists none after 2100
        assert french_holidays(year) == frozenset(holidays.France(years=year)), year


def test_the_holidays_package_is_not_imported() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from datetime import date\n"
        "from tuibill.domain.public_holidays import is_sunday_or_holiday\n"
        "assert is_sunday_or_holiday(date(2026, 5, 25)) and not is_sunday_or_holiday(date(2026, 5, 26))\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] == 'holidays'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_working_days_do_not_import_the_pricing() -> None:
    # The menu's late counts need the working days, not the NGAP pricing (issue 12, start-up).
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import tuibill.domain.delays\n"
        "print('tuibill.domain.pricing' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
