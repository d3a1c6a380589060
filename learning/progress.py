"""A course's progress for one enrolment, through the step protocol of ``StepPage``.

Neither function knows the kinds of steps: each step class answers for its own steps
(``progress_for``), once per class, so the number of queries depends on the number of
step *kinds* in the course, never on the number of steps.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType

from learning.models import NOT_STARTED_STEP, StepPage


@dataclass(frozen=True)
class CourseProgress:
    steps: dict  # step id -> StepProgress, for every live step of the course, in order
    total: int
    done: int
    score: float | None  # mean of the steps' scores (those that have one), 2 decimals
    started: bool
    exhausted: bool

    @property
    def ratio(self):
        return round(self.done / self.total, 4) if self.total else 0.0

    @property
    def complete(self):
        return bool(self.total) and self.done == self.total


def live_step_classes(course):
    """``[(step id, step class)]`` of the course's live steps in order (one query; the
    content types come from Django's cache)."""
    rows = course.get_children().live().order_by("path").values_list("pk", "content_type_id")
    classes = []
    for pk, content_type_id in rows:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        if model is not None and issubclass(model, StepPage):
            classes.append((pk, model))
    return classes


def course_progress(enrollment, steps):
    """``steps``: ``[(step id, step class)]`` (``live_step_classes``) or step pages."""
    pairs = [(s.pk, type(s)) if isinstance(s, StepPage) else s for s in steps]
    by_class = {}
    for pk, model in pairs:
        by_class.setdefault(model, []).append(pk)
    found = {}
    if enrollment is not None:
        for model, ids in by_class.items():
            found.update(model.progress_for(enrollment, ids))
    progress = {pk: found.get(pk, NOT_STARTED_STEP) for pk, _model in pairs}
    scores = [p.score for p in progress.values() if p.score is not None]
    return CourseProgress(
        steps=progress,
        total=len(progress),
        done=sum(1 for p in progress.values() if p.done),
        score=round(sum(scores) / len(scores), 2) if scores else None,
        started=any(p.started or p.done for p in progress.values()),
        exhausted=any(p.exhausted for p in progress.values()),
    )
