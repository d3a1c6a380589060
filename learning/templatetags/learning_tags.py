"""Template tags of the learning pages."""

from django import template

from learning import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def catalogue_url(context, catalogue):
    """The catalogue's URL with the search and filters the learner chose last (session)."""
    return selectors.catalogue_url(context["request"], catalogue)
