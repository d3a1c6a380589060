from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from themes import registry

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Indiquez une couleur au format #rrggbb."))


def _theme_choices():
    return registry.choices()


@register_setting(icon="view")
class ThemeSettings(BaseSiteSetting):
    """Per-site look: a theme from the registry, a logo, optional colour overrides."""

    theme = models.CharField(_("thème"), max_length=50, default="default", choices=_theme_choices)
    logo = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("logo")
    )
    organisation_name = models.CharField(
        _("nom de l'organisation"), max_length=255, blank=True, help_text=_("Affiché dans l'en-tête et le pied de page.")
    )
    primary_colour = models.CharField(
        _("couleur principale"), max_length=7, blank=True, validators=[hex_colour],
        help_text=_("Doit offrir un contraste d'au moins 4,5:1 avec le blanc (RGAA)."),
    )
    accent_colour = models.CharField(
        _("couleur d'accent"), max_length=7, blank=True, validators=[hex_colour],
        help_text=_("Doit offrir un contraste d'au moins 4,5:1 avec le blanc (RGAA)."),
    )
    footer_text = models.TextField(_("texte du pied de page"), blank=True)

    panels = [
        FieldPanel("theme"),
        FieldPanel("organisation_name"),
        FieldPanel("logo"),
        FieldPanel("primary_colour"),
        FieldPanel("accent_colour"),
        FieldPanel("footer_text"),
    ]

    class Meta:
        verbose_name = _("thème du site")

    def clean(self):
        errors = {}
        for name in ("primary_colour", "accent_colour"):
            value = getattr(self, name)
            if value and hex_colour.regex.match(value) and registry.contrast_ratio(value, "#ffffff") < 4.5:
                ratio = registry.contrast_ratio(value, "#ffffff")
                errors[name] = _("Contraste insuffisant avec le blanc (%(ratio).2f:1, il faut 4,5:1).") % {"ratio": ratio}
        if errors:
            raise ValidationError(errors)

    def tokens(self):
        tokens = dict(registry.get(self.theme).tokens)
        if self.theme == "default":  # the high-contrast theme is never overridden
            if self.primary_colour:
                tokens["color-primary"] = self.primary_colour
            if self.accent_colour:
                tokens["color-accent"] = self.accent_colour
        return tokens


class DisplayPreference(models.Model):
    """A user's display preferences (the header's « Affichage » page and Mon espace): the
    high-contrast theme and larger text, whatever the site's theme. Anonymous visitors
    keep theirs in the session (``themes.preferences``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="display_preference", verbose_name=_("utilisateur")
    )
    high_contrast = models.BooleanField(_("contraste élevé"), default=False)
    large_text = models.BooleanField(_("texte agrandi"), default=False)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("préférences d'affichage")
        verbose_name_plural = _("préférences d'affichage")

    def __str__(self):
        return f"{self.user_id}: contrast={self.high_contrast} large={self.large_text}"
