"""The bench scripts' dedicated PostgreSQL database: its name from ``DATABASE_URL``, created when
missing (or dropped and created again), through the server's ``postgres`` database."""

from urllib.parse import urlsplit, urlunsplit


def admin_conninfo(url):
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def database_name(url):
    return urlsplit(url).path.lstrip("/")


def ensure_database(url, *, drop=False):
    import psycopg
    from psycopg import sql

    name = database_name(url)
    with psycopg.connect(admin_conninfo(url), autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
