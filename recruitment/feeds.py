"""RSS and Atom feeds of the open external positions (django.contrib.syndication).

Internal-only openings never appear: a feed reader is anonymous. Every URL in the feeds
(channel link, self link, Atom ids, item links and guids, links inside descriptions) is
absolute on the configured public base URL (``WAGTAILADMIN_BASE_URL``), never on the Host
header of the request: Django's syndication would otherwise complete relative links with
the request's host (``RequestSite``)."""

import re

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext as _
from wagtail.rich_text import expand_db_html

from cms.links import absolute_url
from recruitment import jsonld, selectors
from recruitment.choices import EmploymentType
from recruitment.models import JobIndexPage

FEED_SIZE = 100

# A root-relative URL in an href/src attribute of the rich text (internal pages, documents, images).
RELATIVE_ATTRIBUTE = re.compile(r'(\s(?:href|src)=["\'])/(?!/)')


def _absolute(url):
    """``url`` on the public base URL when it is root-relative; already absolute URLs (a page
    of another Wagtail site, with that site's root URL) are kept."""
    if url and url.startswith("/") and not url.startswith("//"):
        return absolute_url(url)
    return url


class OpeningsFeed(Feed):
    """The object of the feed is the request: a Feed instance is shared by every request."""

    def get_object(self, request, *args, **kwargs):
        return request

    def title(self, request):
        return _("Offres d'emploi — %(organisation)s") % {"organisation": jsonld.organisation_name(request)}

    def description(self, request):
        return _("Les postes ouverts aux candidatures externes, les plus récents d'abord.")

    def link(self, request):
        index = JobIndexPage.objects.live().public().first()
        return _absolute(index.get_url(request) if index else "/")

    def feed_url(self, request):
        return absolute_url(request.path)

    def items(self, request):
        openings = list(
            selectors.visible_openings(None, external_only=True).select_related("org_unit").order_by("-first_published_at", "-pk")[
                :FEED_SIZE
            ]
        )
        for opening in openings:
            opening.feed_link = _absolute(opening.get_url(request))
        return openings

    def item_title(self, item):
        return f"{item.title} ({item.reference})"

    def item_description(self, item):
        summary = format_html(
            "<p>{} — {} — {}</p><p>{}</p>",
            item.org_unit.name,
            _("Catégorie %(c)s") % {"c": item.category},
            EmploymentType(item.employment_type).label,
            _("Date limite de candidature : %(date)s") % {"date": item.application_deadline.strftime("%d/%m/%Y")},
        )
        missions = RELATIVE_ATTRIBUTE.sub(lambda match: match.group(1) + absolute_url("/"), expand_db_html(item.missions))
        return summary + missions

    def item_link(self, item):
        return item.feed_link

    def item_guid(self, item):
        return item.feed_link

    def item_guid_is_permalink(self, item):
        return True

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.last_published_at

    def item_categories(self, item):
        return [_("Catégorie %(c)s") % {"c": item.category}, str(EmploymentType(item.employment_type).label), item.locality]


class OpeningsAtomFeed(OpeningsFeed):
    feed_type = Atom1Feed

    def subtitle(self, request):
        return self.description(request)
