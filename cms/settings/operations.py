"""Settings of the operations part, applied at the end of base.py: ``apply(settings)`` reads and
changes the module's globals (INSTALLED_APPS, MIDDLEWARE, … are lists there)."""


def apply(s):
    """Change the settings dict ``s`` in place."""
