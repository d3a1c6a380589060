"""RSS and Atom feeds of the open external positions (django.contrib.syndication).

Internal-only openings never appear: a feed reader is anonymous."""

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext as _
from wagtail.rich_text import expand_db_html

from recruitment import jsonld, selectors
from recruitment.choices import EmploymentType
from recruitment.models import JobIndexPage

FEED_SIZE = 100


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
        return index.get_url(request) if index else "/"

    def items(self, request):
        openings = list(
            selectors.visible_openings(None, external_only=True).select_related("org_unit").order_by("-first_published_at", "-pk")[
                :FEED_SIZE
            ]
        )
        for opening in openings:
            opening.feed_link = opening.get_url(request)
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
        return summary + expand_db_html(item.missions)

    def item_link(self, item):
        return item.feed_link

    def item_guid(self, item):
        return item.feed_link

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
