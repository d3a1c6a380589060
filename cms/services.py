"""Every write of the cms app goes through a function here."""

from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.models import Page, Site

from cms.models import HomePage


@transaction.atomic
def ensure_home_page(*, title=None, intro=None):
    """Make sure the default site's root is a published HomePage (idempotent).

    Wagtail's initial migration creates a plain "Welcome" page; it is replaced by a
    HomePage the first time, through ``save_revision().publish()``.
    """
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node()
        home = HomePage(
            title=title or _("Parcours"),
            slug="accueil",
            intro=intro
            or _(
                "La plateforme des agents : formations, entretien professionnel annuel et offres d'emploi."
            ),
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Parcours")
    elif site.root_page_id != home.pk:
        old_root = site.root_page
        site.root_page = home
        site.site_name = site.site_name or "Parcours"
        site.save()
        if old_root.specific_class is Page and old_root.depth == 2 and not old_root.get_children().exists():
            old_root.delete()  # Wagtail's placeholder "Welcome to your new Wagtail site!"
    return home
