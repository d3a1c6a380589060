"""Date helpers shared by every app: month arithmetic, French public holidays, working
days and "jours francs".

A délai franc of N days from an event on day D excludes both the day of the event
(dies a quo) and the day it falls due (dies ad quem): the last day on which one may act
is D + N + 1; when that day is a Saturday, a Sunday or a public holiday, the limit moves
to the next working day. Example: notified on Friday 2026-01-30, 15 jours francs: the
limit is Monday 2026-02-16 (D + 16 = Sunday 15 → Monday 16).
"""

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.utils import timezone


def add_months(moment, months):
    """The same day ``months`` later (or earlier), clamped to the month's last day:
    31 January + 1 month = 28 (or 29) February. Works on dates and datetimes."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def local_day(moment):
    """The calendar day of an aware datetime in the site's time zone (a date is returned as is)."""
    if isinstance(moment, datetime):
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return moment


def start_of_day(day):
    """Midnight at the start of ``day``, aware, in the site's time zone."""
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def easter_sunday(year):
    """Anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)


@lru_cache(maxsize=64)
def public_holidays(year):
    """The eleven national public holidays of metropolitan France."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # lundi de Pâques
            date(year, 5, 1),
            date(year, 5, 8),
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=50),  # lundi de Pentecôte
            date(year, 7, 14),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        }
    )


def is_working_day(day):
    return day.weekday() < 5 and day not in public_holidays(day.year)


def next_working_day(day):
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def jours_francs_deadline(event_day, days):
    """Last day (inclusive) to act within ``days`` jours francs of ``event_day``."""
    return next_working_day(event_day + timedelta(days=days + 1))


def calendar_deadline(event_day, days):
    """Last day (inclusive) of a plain ``days``-day limit (e.g. notification within 15 days)."""
    return event_day + timedelta(days=days)
