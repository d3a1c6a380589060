"""Input and output serializers of the completion API.

Completions are read as flat ``values()`` rows (``learning.selectors.completion_rows``):
``CompletionSerializer`` declares the documented shape for the schema, and its
``to_representation`` builds the item from the row dict directly (no model instance, no
field-by-field DRF machinery, no ``reverse()`` per row). The CSV export uses the same
columns computed by the database (``csv_values``).
"""

from django.db.models import Case, CharField, F, Func, Q, TextField, Value, When
from django.db.models.functions import Cast, Concat, Left, Trim
from django.db.models.lookups import In
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from learning.choices import EnrollmentStatus

# --- courses -------------------------------------------------------------------------------


class CourseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    theme = serializers.CharField()
    estimated_minutes = serializers.IntegerField()
    self_enrollment = serializers.BooleanField()
    validity_months = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, course):
        return course.get_full_url(self.context.get("request"))


# --- completions -----------------------------------------------------------------------------


class CertificateUrl:
    """``certificate_url`` of a row from a prefix and suffix computed once per request."""

    __slots__ = ("prefix", "suffix")

    def __init__(self, prefix, suffix):
        self.prefix, self.suffix = prefix, suffix

    def __call__(self, enrollment_id, certificate_code):
        return f"{self.prefix}{enrollment_id}{self.suffix}" if certificate_code else None


def full_name(first_name, last_name):
    return f"{first_name} {last_name}".strip()


def completion_item(row, certificate_url):
    """The API item of one ``completion_rows()`` dict."""
    return {
        "id": row["id"],
        "agent": {
            "employee_number": row["agent__employee_number"],
            "full_name": full_name(row["agent__user__first_name"], row["agent__user__last_name"]),
            "email": row["agent__user__email"],
            "org_unit": row["agent__org_unit__code"],
        },
        "course": {"id": row["course_id"], "slug": row["course__slug"], "title": row["course__title"]},
        "status": row["status"],
        "progress": row["progress"],
        "score": row["score"],
        "due_at": row["due_at"],  # datetimes: ISO 8601 by DRF's JSON encoder ("Z" for UTC)
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "expires_at": row["expires_at"],
        "certificate_url": certificate_url(row["id"], row["certificate_code"]),
        "updated_at": row["updated_at"],
    }


class CompletionAgentSerializer(serializers.Serializer):
    employee_number = serializers.CharField()
    full_name = serializers.CharField()
    email = serializers.CharField()
    org_unit = serializers.CharField(help_text=_("Code de l'unité de l'agent."))


class CompletionCourseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()


class CompletionSerializer(serializers.Serializer):
    """One enrolment as the completion API shows it (read-only, built from a row dict).

    Needs ``context["certificate_url"]``, a :class:`CertificateUrl`.
    """

    id = serializers.IntegerField()
    agent = CompletionAgentSerializer()
    course = CompletionCourseSerializer()
    status = serializers.ChoiceField(choices=EnrollmentStatus.choices)
    progress = serializers.FloatField(min_value=0, max_value=1, help_text=_("De 0 à 1."))
    score = serializers.FloatField(allow_null=True, help_text=_("Moyenne des meilleurs scores aux quiz (%)."))
    due_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    certificate_url = serializers.URLField(allow_null=True, help_text=_("Attestation PDF (authentifiée)."))
    updated_at = serializers.DateTimeField()

    def to_representation(self, row):
        return completion_item(row, self.context["certificate_url"])


# --- CSV export ------------------------------------------------------------------------------

CSV_HEADER = (
    "id",
    "agent_employee_number",
    "agent_full_name",
    "agent_email",
    "agent_org_unit",
    "course_id",
    "course_slug",
    "course_title",
    "status",
    "progress",
    "score",
    "due_at",
    "started_at",
    "completed_at",
    "expires_at",
    "certificate_url",
    "updated_at",
)

# Text cells an editor or an import controls: a leading = + - @ (or tab, CR) would make a
# spreadsheet evaluate them as a formula (CSV injection): such cells get a leading apostrophe.
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


class IsoUtc(Func):
    """A timestamp as ISO 8601 text in UTC ("2026-01-31T08:00:00.000000Z"), formatted by
    the database: no datetime object is built in Python for the export."""

    arity = 1
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):  # other databases: their own text form
        return compiler.compile(Cast(self.source_expressions[0], CharField()))

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, without the fraction when it is
        # zero: added back so that both databases write the same text for the same instant.
        template = (
            "(CASE WHEN length(%(expressions)s) = 19 THEN replace(%(expressions)s, ' ', 'T') || '.000000Z'"
            " ELSE replace(%(expressions)s, ' ', 'T') || 'Z' END)"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)


def _guarded(expression):
    return Case(
        When(In(Left(expression, 1), FORMULA_STARTS), then=Concat(Value("'"), expression)),
        default=expression,
        output_field=CharField(),
    )


def certificate_url_expression(certificate_url):
    """``certificate_url`` of a row, by the database (None without a certificate)."""
    no_certificate = Q(certificate_code__isnull=True) | Q(certificate_code="")
    return Case(
        When(no_certificate, then=Value(None, output_field=CharField())),
        default=Concat(
            Value(certificate_url.prefix),
            Cast("id", CharField()),
            Value(certificate_url.suffix),
            output_field=CharField(),
        ),
    )


def csv_values(queryset, certificate_url):
    """``values_list`` of the CSV columns (CSV_HEADER order), every value computed by the
    database: rows go from the cursor to ``csv.writer`` without per-row Python code."""
    columns = {
        "id": F("id"),
        "agent_employee_number": F("agent__employee_number"),
        "agent_full_name": _guarded(
            Trim(Concat("agent__user__first_name", Value(" "), "agent__user__last_name", output_field=CharField()))
        ),
        "agent_email": _guarded(F("agent__user__email")),
        "agent_org_unit": F("agent__org_unit__code"),
        "course_id": F("course_id"),
        "course_slug": F("course__slug"),
        "course_title": _guarded(F("course__title")),
        "status": F("status"),
        "progress": F("progress"),
        "score": F("score"),
        "due_at": IsoUtc("due_at"),
        "started_at": IsoUtc("started_at"),
        "completed_at": IsoUtc("completed_at"),
        "expires_at": IsoUtc("expires_at"),
        "certificate_url": certificate_url_expression(certificate_url),
        "updated_at": IsoUtc("updated_at"),
    }
    assert tuple(columns) == CSV_HEADER
    return queryset.values_list(*columns.values())


# --- completion items built by PostgreSQL --------------------------------------------------------

# What str.strip() removes (str.isspace()), for the SQL full_name to match full_name().
PY_WHITESPACE = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())


class JsonText(Func):
    """A JSON object as text, built by concatenation in the database: ``fields`` maps each key
    (in output order) to ``(kind, expression)`` or to a nested ``JsonText``. Kinds say how a
    value is written, as DRF's JSON encoder writes the Python value (compact separators):
    ``int`` as is, ``text`` escaped by ``to_json``, ``float`` as ``repr()``, ``datetime`` as
    ``isoformat()`` in UTC with "Z" (fraction only when not zero); NULL is ``null``.

    Faster than ``json_build_object``, which looks up the type of every argument on every
    call: a page of 1,000 items costs a few milliseconds of the query.
    """

    output_field = TextField()
    KINDS = {
        "int": "coalesce(({c})::text, 'null')",
        "text": "coalesce(to_json({c})::text, 'null')",
        "float": None,  # PY_FLOAT, from cms.pgcopy
        "datetime": (
            """coalesce('"' || replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),"""
            """ '.000000Z', 'Z') || '"', 'null')"""
        ),
    }

    def __init__(self, fields):
        assert all(key.isidentifier() and key.isascii() for key in fields)
        self.layout = [(key, None if isinstance(value, JsonText) else value[0]) for key, value in fields.items()]
        super().__init__(*(value if isinstance(value, JsonText) else value[1] for value in fields.values()))

    def as_sql(self, compiler, connection, **extra_context):
        from cms.pgcopy import PY_FLOAT

        pieces, params = [], []
        for index, ((key, kind), expression) in enumerate(zip(self.layout, self.source_expressions, strict=True)):
            sql, expression_params = compiler.compile(expression)
            if kind in ("float", "datetime"):
                assert not expression_params, "float and datetime values must be plain columns"
                template = f"coalesce({PY_FLOAT}, 'null')" if kind == "float" else self.KINDS[kind]
                sql = template.replace("{c}", sql)
            elif kind is not None:
                sql = self.KINDS[kind].replace("{c}", sql)
            pieces.append(("'{" if index == 0 else "',") + f'"{key}":\' || {sql}')
            params.extend(expression_params)
        return "(" + " || ".join(pieces) + " || '}')", params


def completion_json(certificate_url):
    """The API item of a row (``completion_item``'s keys, order and values) as the JSON text
    DRF would write for it, built by PostgreSQL; the view joins a page of them as is."""
    full = Func(
        Concat("agent__user__first_name", Value(" "), "agent__user__last_name", output_field=CharField()),
        Value(PY_WHITESPACE),
        function="btrim",
        output_field=CharField(),
    )
    return JsonText(
        {
            "id": ("int", F("id")),
            "agent": JsonText(
                {
                    "employee_number": ("text", F("agent__employee_number")),
                    "full_name": ("text", full),
                    "email": ("text", F("agent__user__email")),
                    "org_unit": ("text", F("agent__org_unit__code")),
                }
            ),
            "course": JsonText(
                {
                    "id": ("int", F("course_id")),
                    "slug": ("text", F("course__slug")),
                    "title": ("text", F("course__title")),
                }
            ),
            "status": ("text", F("status")),
            "progress": ("float", F("progress")),
            "score": ("float", F("score")),
            "due_at": ("datetime", F("due_at")),
            "started_at": ("datetime", F("started_at")),
            "completed_at": ("datetime", F("completed_at")),
            "expires_at": ("datetime", F("expires_at")),
            "certificate_url": ("text", certificate_url_expression(certificate_url)),
            "updated_at": ("datetime", F("updated_at")),
        }
    )


# --- self-enrolment, lessons, quizzes ----------------------------------------------------------


class SelfEnrollmentRequestSerializer(serializers.Serializer):
    course = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text=_("Identifiant de la formation."))


class QuizAttemptRequestSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text=_(
            "{identifiant de question (bloc StreamField): réponse}. Choix : liste d'identifiants de réponses ; "
            "vrai/faux : [true] ou [false] ; réponse courte : texte."
        ),
    )


class QuizFeedbackSerializer(serializers.Serializer):
    correct = serializers.BooleanField()
    feedback = serializers.CharField(allow_blank=True)


class QuizAttemptResultSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text=_("Pourcentage de bonnes réponses."))
    passed = serializers.BooleanField()
    attempt = serializers.IntegerField(help_text=_("Numéro de la tentative (1, 2…)."))
    attempts_remaining = serializers.IntegerField(allow_null=True, help_text=_("null : tentatives illimitées."))
    feedback = serializers.DictField(child=QuizFeedbackSerializer(), help_text=_("Par identifiant de question."))
    enrollment = CompletionSerializer()
