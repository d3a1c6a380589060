from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def create_cache_table(sender, using, **kwargs):
    """After ``migrate``: the table of the database cache (``CACHE_BACKEND=db``), so that a
    plain ``migrate`` leaves a working site. ``createcachetable`` skips existing tables and
    caches that are not in the database; deployments still run it explicitly."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Organisation et site")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django_tasks.signals import task_finished

        from . import auth_security, checks, converters, dashboard, navigation, seed  # noqa: F401  (registries, checks, <id:> converter)

        user_logged_in.connect(auth_security.expire_agent_sessions_at_browser_close, dispatch_uid="cms.session_expiry")
        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="cms.create_cache_table")
        from django.db.backends.signals import connection_created

        from .text import register_sqlite_unaccent

        connection_created.connect(register_sqlite_unaccent, dispatch_uid="cms.sqlite_unaccent")
        from . import tasks

        task_finished.connect(tasks.record_worker_run, dispatch_uid="cms.record_worker_run")

        dashboard.register_panel(dashboard.ProfilePanel())
        navigation.register(navigation.NavItem("cms.mon_espace", _("Mon espace"), "cms:mon_espace", 0, "mon_espace"))
        seed.register_seeder("cms.pages", seed.seed_pages, order=10)
