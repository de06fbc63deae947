"""France's public holidays (metropole): the NGAP's Sunday and holiday majoration and the legal
delays' working days both count them. A module of its own: the desk's menu counts late FSE
with the working days, without importing the pricing (issue 12, start-up)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache


@lru_cache(maxsize=64)
def french_holidays(year: int) -> frozenset[date]:
    """France's public holidays (metropole) in *year*, the days ``holidays.France`` lists
    (tests/unit/test_pricing.py holds the two equal from 1800 to 2100, its last year).

    Not that package at run time: its first use imports every country's and calendar's module
    (~0.1 s and ~13 MB resident, issue 12) for eleven days a year, eight fixed and three
    from Easter (dateutil's, as the package's own).
    """
    from dateutil.easter import easter

    if year < 1803:  # the package's first year (arrêté du 29 germinal an X)
        return frozenset()
    sunday = easter(year)
    days = {
        sunday + timedelta(days=39),  # Ascension
        date(year, 8, 15),  # Assomption
        date(year, 11, 1),  # Toussaint
        date(year, 12, 25),  # Noël
    }
    if year >= 1811:
        days.add(date(year, 1, 1))  # Jour de l'an
    if year >= 1880:
        days.add(date(year, 7, 14))  # Fête nationale
    if year >= 1886:
        days.add(sunday + timedelta(days=1))  # Lundi de Pâques
        if year not in (2005, 2006, 2007):  # journée de solidarité worked those years
            days.add(sunday + timedelta(days=50))  # Lundi de Pentecôte
    if year >= 1919:
        days.add(date(year, 5, 1))  # Fête du Travail
    if 1953 <= year <= 1959 or year >= 1982:
        days.add(date(year, 5, 8))  # Victoire 1945
    if year >= 1922:
        days.add(date(year, 11, 11))  # Armistice
    return frozenset(days)


def is_sunday_or_holiday(day: date) -> bool:
    return day.weekday() == 6 or day in french_holidays(day.year)
