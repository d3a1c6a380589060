"""Completion API views: thin, reads through learning.selectors, writes through learning.services.

Query budget (does not grow with the rows returned): authentication, the caller's roles
and permissions, the caller's agent profile, at most one org unit lookup for the
``org_unit`` filter, then one query for the page (or one streamed query for the CSV).
"""

import json
from datetime import UTC, datetime

from django.db import connections, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.pagination import Cursor
from rest_framework.response import Response
from rest_framework.views import APIView

from cms.api.errors import invalid, service_errors, validated
from cms.api.negotiation import IgnoreClientContentNegotiation
from cms.api.pagination import CursorPagination
from cms.api.schema import BAD_CURSOR, errors, id_parameter
from cms.converters import parse_id
from cms.csvstream import streaming_csv_response
from cms.links import absolute_url
from cms.pgcopy import copy_csv_response, supports_copy
from learning import selectors, services
from learning.api.serializers import (
    CSV_HEADER,
    CertificateUrl,
    CompletionSerializer,
    CourseSerializer,
    QuizAttemptRequestSerializer,
    QuizAttemptResultSerializer,
    SelfEnrollmentRequestSerializer,
    completion_item,
    completion_json,
    csv_values,
)
from learning.models import Enrollment, LessonPage, QuizPage

# --- pagination ------------------------------------------------------------------------------


class KeysetCursorPagination(CursorPagination):
    """Cursor over a unique ``(field, "id")`` key, without OFFSET.

    DRF's cursor keeps only the first ordering field in the cursor and walks ties with an
    offset capped at 1000: rows updated together (bulk expiry gives thousands of rows the
    same ``updated_at``) would then be skipped or repeated. Here the cursor holds both
    values and the page filters ``(field, id) > (value, id)`` written so that an index on
    ``(field, id)`` serves it as a range scan.
    """

    ordering = ("id",)  # subclasses: (field, "id")

    def parse_position_value(self, text):
        return text

    def format_position_value(self, value):
        return str(value)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            value, sep, pk = cursor.position.rpartition("|")
            if not sep:
                raise ValueError(cursor.position)
            position = (self.parse_position_value(value), int(pk))
        except (TypeError, ValueError) as exc:
            raise exceptions.NotFound(self.invalid_cursor_message) from exc
        return Cursor(offset=0, reverse=cursor.reverse, position=position)

    def encode_cursor(self, cursor):
        if cursor.position is not None:
            value, pk = cursor.position
            cursor = Cursor(offset=0, reverse=cursor.reverse, position=f"{self.format_position_value(value)}|{pk}")
        return super().encode_cursor(cursor)

    def _get_position_from_instance(self, instance, ordering=None):
        field, key = self.ordering
        if isinstance(instance, dict):
            return instance[field], instance[key]
        return getattr(instance, field), getattr(instance, key)

    def page_queryset(self, queryset, request):
        """The rows from the cursor on, in the walk's direction (``page_size + 1`` of them
        tell whether there is more); returns ``(queryset, backwards, position)``."""
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = absolute_url(request.get_full_path())
        self.cursor = self.decode_cursor(request)
        field, key = self.ordering
        backwards = bool(self.cursor and self.cursor.reverse)
        position = self.cursor.position if self.cursor else None
        if backwards:
            queryset = queryset.order_by(f"-{field}", f"-{key}")
            if position is not None:
                value, pk = position
                queryset = queryset.filter(
                    Q(**{f"{field}__lte": value}), Q(**{f"{field}__lt": value}) | Q(**{f"{key}__lt": pk})
                )
        else:
            queryset = queryset.order_by(field, key)
            if position is not None:
                value, pk = position
                queryset = queryset.filter(
                    Q(**{f"{field}__gte": value}), Q(**{f"{field}__gt": value}) | Q(**{f"{key}__gt": pk})
                )
        return queryset, backwards, position

    def set_links(self, *, more, backwards, position, first, last):
        """The page's neighbours: ``first``/``last`` are the positions of its first and last
        rows in the order shown (None for an empty page)."""
        if backwards:
            self.has_previous, self.has_next = more, True
        else:
            self.has_next, self.has_previous = more, position is not None
        # An empty page in one direction means "nothing beyond the cursor": the other link
        # restarts from that end (a cursor without position).
        self.next_position = last
        self.previous_position = first
        self.display_page_controls = self.has_previous or self.has_next

    def paginate_queryset(self, queryset, request, view=None):
        queryset, backwards, position = self.page_queryset(queryset, request)
        results = list(queryset[: self.page_size + 1])
        more = len(results) > self.page_size
        page = results[: self.page_size]
        if backwards:
            page.reverse()
        first = self._get_position_from_instance(page[0]) if page else None
        last = self._get_position_from_instance(page[-1]) if page else None
        self.set_links(more=more, backwards=backwards, position=position, first=first, last=last)
        self.page = page
        return page

    def json_page(self, queryset, request, item):
        """PostgreSQL: the page's items as one JSON text built by the database (``item``, an
        expression giving each row's JSON text), in one query; returns ``(text, count)``.

        The page query (``page_size + 1`` rows from the cursor, by the ``(field, id)`` index)
        is wrapped in an aggregate that joins the first ``page_size`` items in the order shown
        and gives the positions of the first and last of them for the links.
        """
        queryset, backwards, position = self.page_queryset(queryset, request)
        field, key = self.ordering
        inner = queryset.annotate(page_item=item).values_list(field, key, "page_item")[: self.page_size + 1]
        sql, params = inner.query.sql_with_params()
        direction = "DESC" if backwards else "ASC"  # the query's order; a backward page is shown reversed
        f, k = connections[queryset.db].ops.quote_name(field), connections[queryset.db].ops.quote_name(key)
        statement = f"""
            SELECT coalesce(string_agg(q.page_item, ',' ORDER BY q.n {direction}) FILTER (WHERE q.n <= %s), ''),
                   count(*),
                   (array_agg(q.{f} ORDER BY q.n) FILTER (WHERE q.n <= %s))[1],
                   (array_agg(q.{k} ORDER BY q.n) FILTER (WHERE q.n <= %s))[1],
                   (array_agg(q.{f} ORDER BY q.n DESC) FILTER (WHERE q.n <= %s))[1],
                   (array_agg(q.{k} ORDER BY q.n DESC) FILTER (WHERE q.n <= %s))[1]
            FROM (SELECT s.*, row_number() OVER (ORDER BY s.{f} {direction}, s.{k} {direction}) AS n
                  FROM ({sql}) AS s) AS q
        """
        size = self.page_size
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(statement, [size, size, size, size, size, *params])
            text, count, head_value, head_pk, tail_value, tail_pk = cursor.fetchone()
        more = count > size
        head = (head_value, head_pk) if count else None  # first row in the query's order
        tail = (tail_value, tail_pk) if count else None  # last row shown in the query's order
        first, last = (tail, head) if backwards else (head, tail)
        self.set_links(more=more, backwards=backwards, position=position, first=first, last=last)
        return text, min(count, size)

    def json_response(self, items_text):
        """The page as DRF would render it (``next``, ``previous``, ``results``), the items
        written as they are."""
        links = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        links = json.dumps(links, ensure_ascii=False, separators=(",", ":"))
        # DRF's JSONRenderer escapes these two for JavaScript; to_json() does not.
        items_text = items_text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        body = f'{links[:-1]},"results":[{items_text}]}}'
        return HttpResponse(body.encode("utf-8"), content_type="application/json")

    def get_next_link(self):
        if not self.has_next:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=False, position=self.next_position))

    def get_previous_link(self):
        if not self.has_previous:
            return None
        return self.encode_cursor(Cursor(offset=0, reverse=True, position=self.previous_position))


class CompletionCursorPagination(KeysetCursorPagination):
    """Sync order: ``(updated_at, id)``; ``page_size`` up to 1000."""

    ordering = ("updated_at", "id")

    def parse_position_value(self, text):
        value = datetime.fromisoformat(text)
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        try:
            return value.astimezone(UTC)  # a hand-made cursor may not exist in UTC (year 0)
        except OverflowError as exc:
            raise ValueError(text) from exc

    def format_position_value(self, value):
        return value.isoformat()


class CoursePagination(KeysetCursorPagination):
    ordering = ("title", "id")


# --- helpers ----------------------------------------------------------------------------------

_PLACEHOLDER = 987654321012


def certificate_url(request):
    """Prefix and suffix of the certificates' absolute URLs, computed once per request: the
    API's own ``certificates/{id}.pdf``, which takes the caller's token as well as a session."""
    path = reverse("api-certificate", kwargs={"enrollment_id": _PLACEHOLDER})
    prefix, _sep, suffix = absolute_url(path).rpartition(str(_PLACEHOLDER))
    return CertificateUrl(prefix, suffix)


MAX_EMPLOYEE_NUMBER = 32  # cms.Agent.employee_number max_length


def filter_params(query_params):
    """The filters as a plain dict; ``status`` may be repeated or comma separated."""
    params = {key: query_params.get(key, "").strip() for key in ("course", "org_unit", "agent", "updated_since")}
    params["status"] = ",".join(v.strip() for v in query_params.getlist("status") if v.strip())
    course, agent = params["course"], params["agent"]
    if course and parse_id(course) is None:
        raise invalid({"course": _("Identifiant de formation invalide.")})
    if agent and (len(agent) > MAX_EMPLOYEE_NUMBER or not agent.isprintable()):
        raise invalid({"agent": _("Matricule invalide.")})
    if params["updated_since"]:
        params["updated_since"] = normalised_moment(params["updated_since"])
    return params


def normalised_moment(raw):
    """``updated_since`` as an aware ISO 8601 string, or 400: a date that does not exist
    (2020-02-30T00:00) or that overflows once in UTC (0001-01-01, 9999-12-31T23:59-23:59)."""
    try:
        moment = parse_datetime(raw.replace(" ", "+"))  # "+" arrives as a space when not encoded
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            moment.astimezone(UTC)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise invalid({"updated_since": _("Date ISO 8601 attendue, par exemple 2026-01-31T00:00:00Z.")})
    return moment.isoformat()


def visible_completions(request):
    """The caller's visible enrolments with the query-string filters applied (400 if bad)."""
    params = filter_params(request.query_params)
    try:
        return selectors.filter_completions(selectors.completions_visible_to_paged(request.user), params)
    except selectors.FilterError as exc:
        raise invalid({exc.field: exc.message}) from exc


def enrollment_item(request, enrollment_id):
    row = selectors.completion_rows(Enrollment.objects.filter(pk=enrollment_id)).get()
    return CompletionSerializer(row, context={"certificate_url": certificate_url(request)}).data


COMPLETION_FILTERS = [
    id_parameter("course", _("Identifiant de formation.")),
    OpenApiParameter("org_unit", OpenApiTypes.STR, description=_("Code d'unité : l'unité et tout son sous-arbre.")),
    OpenApiParameter("agent", OpenApiTypes.STR, description=_("Matricule de l'agent.")),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        description=_(
            "Un ou plusieurs statuts séparés par des virgules : not_started, in_progress, completed, failed, expired."
        ),
    ),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description=_(
            "ISO 8601 ; lignes modifiées à partir de cet instant (inclus), pour la synchronisation incrémentale."
        ),
    ),
]


# --- courses -------------------------------------------------------------------------------------


class CourseListView(generics.ListAPIView):
    """Published courses, by title."""

    serializer_class = CourseSerializer
    pagination_class = CoursePagination

    def get_queryset(self):
        return selectors.published_courses()

    @extend_schema(
        operation_id="courses_list", responses={200: CourseSerializer(many=True), **errors(401), 404: BAD_CURSOR}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- completions ------------------------------------------------------------------------------


# PostgreSQL writes the completions pages' JSON and the CSV exports (COPY); False: the Python
# paths everywhere (the tests compare both).
JSON_IN_DATABASE = True
COPY_EXPORTS = True


class CompletionListView(generics.ListAPIView):
    """Enrolments the caller may see, in sync order ``(updated_at, id)``, cursor paginated.

    An agent sees their own; a manager their reports' (all levels) and their own; HR and
    holders of ``learning.view_all_completions`` (service accounts) everything.
    """

    serializer_class = CompletionSerializer
    pagination_class = CompletionCursorPagination

    def get_queryset(self):
        return selectors.completion_rows(visible_completions(self.request))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "certificate_url": certificate_url(self.request)}

    @extend_schema(
        operation_id="completions_list",
        parameters=COMPLETION_FILTERS,
        responses={200: CompletionSerializer(many=True), **errors(400, 401), 404: BAD_CURSOR},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        """PostgreSQL builds the page's JSON itself (one query, the text written as is);
        elsewhere rows are read with ``values()`` and items built as plain dicts. Same JSON."""
        queryset = visible_completions(request)
        urls = certificate_url(request)
        if (
            JSON_IN_DATABASE
            and connections[queryset.db].vendor == "postgresql"
            and request.accepted_renderer.format == "json"
        ):
            text, _count = self.paginator.json_page(queryset, request, completion_json(urls))
            return self.paginator.json_response(text)
        page = self.paginate_queryset(selectors.completion_rows(queryset))
        return self.get_paginated_response([completion_item(row, urls) for row in page])


EXPORT_CHUNK = 2000
# The file starts with a byte order mark (cms.csvstream): Excel (French locale) needs it,
# CSV libraries ignore or skip it. See docs/api.md.
DELIMITERS = {"comma": ",", "semicolon": ";"}
EXPORT_HEADERS = {"X-Accel-Buffering": "no"}


def export_queryset(queryset, certificate_url):
    """The export's rows: sync order, every CSV column computed by the database."""
    return csv_values(queryset.order_by("updated_at", "id"), certificate_url)


def stream_rows(queryset):
    """``queryset.iterator()`` through a server-side cursor, fetched EXPORT_CHUNK rows at a time.

    On PostgreSQL the cursor is read inside a transaction: outside one, Django declares it
    WITH HOLD, and PostgreSQL then computes and stores the whole result before the first
    row. ``cursor_tuple_fraction = 1`` makes the planner optimise for reading every row
    (hash joins and one sort, as COPY does) rather than for the first ones (an index walk
    with a lookup per row, half as fast here). The transaction also gives the file one
    consistent snapshot. A client that disconnects closes the generator: the transaction
    ends there.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=EXPORT_CHUNK)
        return
    with transaction.atomic(using=queryset.db):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield from queryset.iterator(chunk_size=EXPORT_CHUNK)


class CompletionExportView(APIView):
    """The rows of ``completions/`` with the same filters and visibility, streamed as CSV."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="completions_export_csv",
        parameters=[
            *COMPLETION_FILTERS,
            OpenApiParameter(
                "delimiter",
                OpenApiTypes.STR,
                enum=list(DELIMITERS),
                description=_("comma (défaut, RFC 4180) ou semicolon (Excel en français, ouverture par double-clic)."),
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=_("UTF-8 avec BOM, une ligne d'en-tête, dates ISO 8601 en UTC, ordre (updated_at, id)."),
            ),
            **errors(400, 401),
        },
    )
    def get(self, request):
        delimiter = request.query_params.get("delimiter", "comma")
        if delimiter not in DELIMITERS:
            raise invalid({"delimiter": _("Valeurs possibles : comma, semicolon.")})
        rows = export_queryset(visible_completions(request), certificate_url(request))
        return export_response(rows, f"completions-{timezone.localdate():%Y-%m-%d}.csv", DELIMITERS[delimiter])


def export_response(rows, filename, delimiter, *, use_copy=None):
    """PostgreSQL: ``COPY`` formats the CSV (cms.pgcopy), the same bytes as the Python path
    used elsewhere: one ``writerows`` per EXPORT_CHUNK rows, and closing the stream ends
    the export's transaction. ``X-Accel-Buffering: no``: nginx passes the file on as it
    comes (docs/deployment.md)."""
    if use_copy is None:
        use_copy = COPY_EXPORTS and supports_copy(rows)
    if use_copy:
        return copy_csv_response(rows, filename, delimiter=delimiter, header=CSV_HEADER, headers=EXPORT_HEADERS)
    return streaming_csv_response(
        stream_rows(rows), filename, delimiter=delimiter, header=CSV_HEADER, chunk_size=EXPORT_CHUNK,
        headers=EXPORT_HEADERS,
    )  # fmt: skip


# --- the caller's own enrolments, lessons and quizzes --------------------------------------------


class MyEnrollmentsView(APIView):
    """The caller's enrolments (every cycle); POST self-enrols where the course allows it."""

    @extend_schema(operation_id="me_enrollments_list", responses={200: CompletionSerializer(many=True), **errors(401)})
    def get(self, request):
        rows = selectors.my_enrollments(request.user).values(*selectors.COMPLETION_FIELDS)
        context = {"certificate_url": certificate_url(request)}
        return Response(CompletionSerializer(rows, many=True, context=context).data)

    @extend_schema(
        operation_id="me_enrollments_create",
        request=SelfEnrollmentRequestSerializer,
        responses={
            201: OpenApiResponse(CompletionSerializer, description=_("Inscription créée.")),
            200: OpenApiResponse(CompletionSerializer, description=_("Déjà inscrit : l'inscription en cours.")),
            **errors(400, 401, 403, 409),
        },
    )
    def post(self, request):
        data = validated(SelfEnrollmentRequestSerializer(data=request.data))
        course = selectors.published_courses().filter(pk=data["course"]).first()
        if course is None:
            raise invalid({"course": _("Formation inconnue ou non publiée.")})
        with service_errors():
            enrollment, created = services.self_enroll(user=request.user, course=course)
        return Response(
            enrollment_item(request, enrollment.pk), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class CompleteLessonView(APIView):
    """Marks a published lesson done for the caller (enrolling them where allowed)."""

    @extend_schema(
        operation_id="me_lessons_complete",
        parameters=[id_parameter("lesson_id", _("Identifiant de la leçon (page Wagtail)."), path=True)],
        request=None,
        responses={200: CompletionSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, lesson_id):
        lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
        if lesson is None:
            raise exceptions.NotFound(_("Cette leçon n'existe pas ou n'est pas publiée."))
        with service_errors():
            enrollment = services.complete_lesson(user=request.user, lesson=lesson)
        return Response(enrollment_item(request, enrollment.pk))


class QuizAttemptsView(APIView):
    """Submits answers to a published quiz; graded on the server."""

    @extend_schema(
        operation_id="me_quizzes_attempts_create",
        parameters=[id_parameter("quiz_id", _("Identifiant du quiz (page Wagtail)."), path=True)],
        request=QuizAttemptRequestSerializer,
        responses={200: QuizAttemptResultSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request, quiz_id):
        quiz = QuizPage.objects.live().filter(pk=quiz_id).first()
        if quiz is None:
            raise exceptions.NotFound(_("Ce quiz n'existe pas ou n'est pas publié."))
        data = validated(QuizAttemptRequestSerializer(data=request.data))
        with service_errors():
            attempt, enrollment = services.submit_quiz(user=request.user, quiz=quiz, answers=data["answers"])
        result = {
            "score": attempt.score,
            "passed": attempt.passed,
            "attempt": attempt.number,
            "attempts_remaining": max(0, quiz.attempt_limit - attempt.number) if quiz.attempt_limit else None,
            "feedback": attempt.feedback,
            "enrollment": selectors.completion_rows(Enrollment.objects.filter(pk=enrollment.pk)).get(),
        }
        context = {"certificate_url": certificate_url(request)}
        return Response(QuizAttemptResultSerializer(result, context=context).data)


class CertificateView(APIView):
    """The certificate of an enrolment as PDF (the ``certificate_url`` of a completion), to
    the agent, the managers above them, HR and service accounts allowed to read all
    completions, authenticated by token or session; anyone else gets 404."""

    content_negotiation_class = IgnoreClientContentNegotiation  # a PDF client's Accept must not turn an error into 406

    @extend_schema(
        operation_id="certificates_retrieve",
        parameters=[id_parameter("enrollment_id", _("Identifiant de l'inscription."), path=True)],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=_("L'attestation (PDF).")),
            **errors(401, 404),
        },
    )
    def get(self, request, enrollment_id):
        from django.http import Http404

        from learning.certificate_views import certificate_response

        try:
            return certificate_response(request.user, enrollment_id)
        except Http404 as exc:
            raise exceptions.NotFound(_("Aucune attestation accessible pour cette inscription.")) from exc
