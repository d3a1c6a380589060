from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[("info", _("Information")), ("warning", _("Attention")), ("success", _("À retenir"))],
        default="info",
        label=_("type"),
    )
    title = blocks.CharBlock(required=False, label=_("titre"))
    text = blocks.RichTextBlock(features=["bold", "italic", "link", "ul", "ol"], label=_("texte"))

    class Meta:
        icon = "warning"
        label = _("Encadré")
        template = "cms/blocks/callout.html"


class LinkBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock(required=False, label=_("page"))
    url = blocks.URLBlock(required=False, label=_("adresse externe"))
    text = blocks.CharBlock(label=_("texte du lien"))

    class Meta:
        icon = "link"
        label = _("Lien")
        template = "cms/blocks/link.html"


class ContentStreamBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", label=_("Intertitre"), template="cms/blocks/heading.html")
    paragraph = blocks.RichTextBlock(label=_("Paragraphe"))
    image = ImageBlock(label=_("Image"))
    embed = EmbedBlock(label=_("Vidéo ou contenu intégré"))
    document = DocumentChooserBlock(label=_("Document"), template="cms/blocks/document.html")
    callout = CalloutBlock()
    links = blocks.ListBlock(LinkBlock(), label=_("Liste de liens"), template="cms/blocks/links.html")
