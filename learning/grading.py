"""Server-side quiz grading. Pure functions: no database access."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalise(text):
    """Case, accents, punctuation and spacing do not matter in a short answer."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return " ".join(text.split())


def _choice_ids(value, key="choices", correct_only=False):
    return {child.id for child in value[key].bound_blocks if not correct_only or child.value["correct"]}


def _as_list(question_id, given):
    if given is None:
        return []
    if not isinstance(given, list):
        raise ValidationError({question_id: _("La réponse doit être une liste d'identifiants de réponses.")})
    return given


def grade(quiz, answers):
    """Grade ``answers`` ({question block id: [choice ids] | [true|false] | text}).

    Returns ``(score_percent, passed, feedback)`` where feedback maps each question id to
    ``{"correct": bool, "feedback": str}``. Unknown question or choice ids raise a
    ValidationError naming them; a missing answer counts as wrong.
    """
    if not isinstance(answers, dict):
        raise ValidationError({"answers": _("Les réponses doivent être un objet {question: réponse}.")})
    questions = {block.id: block for block in quiz.questions}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise ValidationError({"answers": _("Questions inconnues : %(ids)s.") % {"ids": ", ".join(unknown)}})
    if not questions:
        raise ValidationError({"answers": _("Ce quiz ne contient aucune question.")})

    feedback, correct_count = {}, 0
    for qid, block in questions.items():
        value, given = block.value, answers.get(qid)
        if block.block_type in ("single_choice", "multiple_choice"):
            given_ids = set(map(str, _as_list(qid, given)))
            unknown_choices = given_ids - _choice_ids(value)
            if unknown_choices:
                raise ValidationError({qid: _("Réponses inconnues : %(ids)s.") % {"ids": ", ".join(sorted(unknown_choices))}})
            if block.block_type == "single_choice" and len(given_ids) > 1:
                raise ValidationError({qid: _("Une seule réponse est attendue.")})
            correct = given_ids == _choice_ids(value, correct_only=True)
        elif block.block_type == "true_false":
            given_list = _as_list(qid, given)
            if len(given_list) > 1 or any(not isinstance(v, bool) for v in given_list):
                raise ValidationError({qid: _("Répondez par [true] ou [false].")})
            correct = bool(given_list) and given_list[0] == bool(value["answer"])
        elif block.block_type == "short_answer":
            if given is not None and not isinstance(given, str):
                raise ValidationError({qid: _("La réponse doit être un texte.")})
            accepted = {normalise(a) for a in value["accepted_answers"]}
            correct = given is not None and normalise(given) in accepted
        else:  # pragma: no cover - a new block type must be graded explicitly
            raise ValidationError({qid: _("Type de question non géré.")})
        correct_count += correct
        text = value["feedback_correct"] if correct else value["feedback_incorrect"]
        feedback[qid] = {"correct": correct, "feedback": text or ""}

    score = round(100 * correct_count / len(questions), 2)
    return score, score >= quiz.pass_mark, feedback
