"""Bulk writes done by the database: ``INSERT … SELECT … ON CONFLICT DO NOTHING``.

Standard SQL that PostgreSQL and SQLite (≥ 3.35, for ``RETURNING``) both run, for the
operations that create thousands of rows from rows already in the database (a course
assigned to a subtree, an appraisal campaign launched over the organisation): no row
crosses into Python, no model instance is built.

``insert_select(model, values, source=…, where=…)`` writes every concrete column of
``model``: the ones given in ``values`` as SQL expressions over the ``source`` (or plain
Python values, sent as parameters prepared by the field), the others with their field's
default (``NULL`` for a nullable field without one). A row that would break a unique
constraint, partial ones included, is skipped (``ON CONFLICT DO NOTHING``), which is what
makes these operations idempotent.
"""

from dataclasses import dataclass, field

from django.db import connection


@dataclass
class Sql:
    """An SQL expression with its parameters, for a column of ``insert_select``."""

    sql: str
    params: list = field(default_factory=list)


def queryset_sql(queryset):
    """(sql, params) of a queryset, for use as a subquery."""
    return queryset.query.sql_with_params()


def _column_value(model_field, value):
    if isinstance(value, Sql):
        return value.sql, list(value.params)
    return "%s", [model_field.get_db_prep_save(value, connection)]


def _default(model_field):
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    if model_field.empty_strings_allowed:
        return ""
    raise ValueError(f"{model_field.model._meta.label}.{model_field.name} needs a value in insert_select")


def insert_select(model, values, *, source, where="TRUE", params=(), returning=("id",)):
    """Run ``INSERT INTO <model> (…) SELECT <values> FROM <source> WHERE <where> ON CONFLICT
    DO NOTHING RETURNING <returning>`` and return the rows inserted (tuples).

    ``values``: field name → ``Sql`` (an expression over ``source``) or a Python value.
    ``source`` and ``where`` may hold ``%s`` placeholders, filled from ``params`` (in the
    order: ``values``' parameters first, then ``source``'s and ``where``'s). The auto primary
    key is left to the database.
    """
    meta = model._meta
    unknown = set(values) - {f.name for f in meta.concrete_fields} - {f.attname for f in meta.concrete_fields}
    if unknown:
        raise ValueError(f"{meta.label} has no field {sorted(unknown)}")
    columns, expressions, value_params = [], [], []
    for model_field in meta.concrete_fields:
        if model_field is meta.pk and model_field.name not in values:
            continue
        if model_field.name in values:
            value = values[model_field.name]
        elif model_field.attname in values:
            value = values[model_field.attname]
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            raise ValueError(f"{meta.label}.{model_field.name} is set on save: give it in insert_select")
        else:
            value = _default(model_field)
        sql, extra = _column_value(model_field, value)
        columns.append(connection.ops.quote_name(model_field.column))
        expressions.append(sql)
        value_params += extra
    quote = connection.ops.quote_name
    statement = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source} WHERE {where} "
        "ON CONFLICT DO NOTHING"
    )
    if returning:
        statement += " RETURNING " + ", ".join(quote(meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(statement, [*value_params, *params])
        return cursor.fetchall() if returning else cursor.rowcount


def batch_bounds(queryset, size, key="id"):
    """(total, [upper bounds]) of ``queryset`` ordered by ``key``, cut in batches of ``size``
    rows: batch n covers ``bounds[n-1] < key <= bounds[n]``. One query (window functions)."""
    sql, params = queryset_sql(queryset.order_by().values(key))
    statement = (
        f"SELECT k, rn, total FROM (SELECT t.{key} AS k, ROW_NUMBER() OVER (ORDER BY t.{key}) AS rn, "
        f"COUNT(*) OVER () AS total FROM ({sql}) t) w WHERE rn %% %s = 0 OR rn = total ORDER BY rn"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, size])
        rows = cursor.fetchall()
    if not rows:
        return 0, []
    return rows[-1][2], [row[0] for row in rows]


def analyze(*models):
    """Refresh the planner's statistics of the tables after a bulk write (PostgreSQL only:
    autovacuum would do it later, the queries that follow a launch need them now)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return True
