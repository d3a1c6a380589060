"""StreamField blocks for lessons and quizzes.

Quiz questions are identified by their StreamField block id, choices by their ListBlock
item id: the API and the grading use those ids, never positions (editors reorder).
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock

from cms.blocks import CalloutBlock


class LessonStreamBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(label=_("Intertitre"), template="cms/blocks/heading.html")
    text = blocks.RichTextBlock(label=_("Texte"))
    image = ImageBlock(label=_("Image"))
    video = EmbedBlock(label=_("Vidéo"), help_text=_("Adresse d'une vidéo (YouTube, Vimeo, Dailymotion…)."))
    document = DocumentChooserBlock(label=_("Document"), template="cms/blocks/document.html")
    callout = CalloutBlock()


class ChoiceBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("réponse"))
    correct = blocks.BooleanBlock(required=False, label=_("bonne réponse"))

    class Meta:
        label = _("Réponse proposée")


class _QuestionBlock(blocks.StructBlock):
    prompt = blocks.TextBlock(label=_("question"))
    feedback_correct = blocks.TextBlock(required=False, label=_("retour si juste"))
    feedback_incorrect = blocks.TextBlock(required=False, label=_("retour si faux"))


class SingleChoiceQuestionBlock(_QuestionBlock):
    choices = blocks.ListBlock(ChoiceBlock(), min_num=2, label=_("réponses proposées"))

    class Meta:
        label = _("Choix unique")
        icon = "radio-full"

    def clean(self, value):
        value = super().clean(value)
        if sum(1 for c in value["choices"] if c["correct"]) != 1:
            raise blocks.StructBlockValidationError(
                block_errors={"choices": blocks.list_block.ListBlockValidationError(
                    non_block_errors=[_("Cochez exactement une bonne réponse.")]
                )}
            )
        return value


class MultipleChoiceQuestionBlock(_QuestionBlock):
    choices = blocks.ListBlock(ChoiceBlock(), min_num=2, label=_("réponses proposées"))

    class Meta:
        label = _("Choix multiple")
        icon = "tick-inverse"

    def clean(self, value):
        value = super().clean(value)
        if not any(c["correct"] for c in value["choices"]):
            raise blocks.StructBlockValidationError(
                block_errors={"choices": blocks.list_block.ListBlockValidationError(
                    non_block_errors=[_("Cochez au moins une bonne réponse.")]
                )}
            )
        return value


class TrueFalseQuestionBlock(_QuestionBlock):
    answer = blocks.BooleanBlock(required=False, label=_("l'affirmation est vraie"))

    class Meta:
        label = _("Vrai ou faux")
        icon = "help"


class ShortAnswerQuestionBlock(_QuestionBlock):
    accepted_answers = blocks.ListBlock(
        blocks.CharBlock(label=_("réponse acceptée")),
        min_num=1,
        label=_("réponses acceptées"),
        help_text=_("Comparées sans tenir compte des majuscules, des accents, de la ponctuation ni des espaces."),
    )

    class Meta:
        label = _("Réponse courte")
        icon = "edit"


class QuestionStreamBlock(blocks.StreamBlock):
    single_choice = SingleChoiceQuestionBlock()
    multiple_choice = MultipleChoiceQuestionBlock()
    true_false = TrueFalseQuestionBlock()
    short_answer = ShortAnswerQuestionBlock()
