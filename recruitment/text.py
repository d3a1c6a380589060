"""French elision in the sentences that name a person (« la grille d'Émilie Millet »): the
shared helper of ``cms.text``, imported here for the recruitment modules that use it."""

from cms.text import elides, of

__all__ = ["elides", "of"]
