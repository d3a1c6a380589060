"""schema.org ``JobPosting`` structured data for an open job notice.

Values are typed the way Google for Jobs and other aggregators read them: ISO 8601 dates,
``validThrough`` as the deadline's last second in Paris time *with its UTC offset*,
numbers as JSON numbers, ``baseSalary`` as a ``MonetaryAmount`` only when a salary is
given. A closed opening gets no markup at all (see ``is_publicly_open``).

The markup is emitted as ``<script type="application/ld+json">``: a data block that
browsers never execute, so the CSP (``script-src 'self'``) neither blocks it nor needs
relaxing.
"""

import json
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from wagtail.models import Site
from wagtail.rich_text import expand_db_html

from recruitment.choices import OpeningState

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_ORGANISATION_NAME = "Ville de Paris"
# Characters that could end the <script> element or open a comment inside it.
_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def organisation_name(request=None):
    """The employer's name: the site's theme settings (the request's site, else the default
    site), else ``RECRUITMENT_ORGANISATION_NAME``, else "Ville de Paris"."""
    from themes.models import ThemeSettings

    name = ""
    site = Site.find_for_request(request) if request is not None else Site.objects.filter(is_default_site=True).first()
    if site is not None:
        settings_ = ThemeSettings.for_request(request) if request is not None else ThemeSettings.for_site(site)
        name = settings_.organisation_name  # for_request caches it on the request
    return name or getattr(settings, "RECRUITMENT_ORGANISATION_NAME", DEFAULT_ORGANISATION_NAME)


def site_url(request=None):
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    return site.root_url if site is not None else settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def is_publicly_open(opening, today=None):
    """Open for applications right now: live, recruitment open, deadline not past."""
    today = today or timezone.localdate()
    return bool(opening.live and opening.recruitment_state == OpeningState.OPEN and opening.application_deadline >= today)


def valid_through(deadline):
    """The deadline's last second in Paris, ISO 8601 with offset: ``2025-06-30T23:59:59+02:00``."""
    return datetime.combine(deadline, time(23, 59, 59), tzinfo=PARIS).isoformat()


def _number(value):
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def base_salary(opening):
    """``MonetaryAmount`` (EUR per year) or None when no salary is given."""
    if opening.salary_min is None and opening.salary_max is None:
        return None
    value = {"@type": "QuantitativeValue", "unitText": "YEAR"}
    if opening.salary_min is not None:
        value["minValue"] = _number(opening.salary_min)
    if opening.salary_max is not None:
        value["maxValue"] = _number(opening.salary_max)
    return {"@type": "MonetaryAmount", "currency": "EUR", "value": value}


def description_html(opening):
    parts = [f"<h2>{_('Missions')}</h2>", expand_db_html(opening.missions),
             f"<h2>{_('Profil recherché')}</h2>", expand_db_html(opening.profile)]
    if opening.conditions:
        parts += [f"<h2>{_('Conditions particulières')}</h2>", expand_db_html(opening.conditions)]
    return "".join(parts)


def job_posting(opening, request=None):
    """The ``JobPosting`` dict of an opening (whatever its state: callers check openness)."""
    name = organisation_name(request)
    root = site_url(request)
    posted = opening.first_published_at or timezone.now()
    data = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": opening.title,
        "description": description_html(opening),
        "datePosted": timezone.localtime(posted, PARIS).date().isoformat(),
        "validThrough": valid_through(opening.application_deadline),
        "hiringOrganization": {"@type": "Organization", "name": name, "sameAs": root},
        "jobLocation": {
            "@type": "Place",
            "name": opening.location_name,
            "address": {
                "@type": "PostalAddress",
                "streetAddress": opening.street_address,
                "postalCode": opening.postal_code,
                "addressLocality": opening.locality,
                "addressCountry": "FR",
            },
        },
        "employmentType": opening.employment_type,
        "identifier": {"@type": "PropertyValue", "name": name, "value": opening.reference},
        "directApply": True,
        "occupationalCategory": opening.corps,
    }
    salary = base_salary(opening)
    if salary is not None:
        data["baseSalary"] = salary
    url = opening.get_full_url(request) if opening.pk else None
    if url:
        data["url"] = url
    return data


def dumps(data):
    """JSON safe to place inside a ``<script>`` element."""
    return json.dumps(data, ensure_ascii=False, indent=2).translate(_SCRIPT_ESCAPES)


def job_posting_script(opening, request=None, today=None):
    """The ``<script type="application/ld+json">`` element, or "" when the opening is
    closed or internal only (neither is a public job posting)."""
    if opening.internal_only or not is_publicly_open(opening, today):
        return ""
    return mark_safe(f'<script type="application/ld+json">{dumps(job_posting(opening, request))}</script>')  # noqa: S308
