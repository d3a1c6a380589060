"""Print a fingerprint of a Parcours site as JSON: the row count of every model and the
SHA-256 of every private file a row points to (read through the site's private storage, as
the permission-checked views read them). Two sites with the same fingerprint hold the same
data: .ci/ops compares a seeded site with its restored backup.

    DATABASE_URL=… PRIVATE_ROOT=… .venv/bin/python scripts/site_fingerprint.py
"""

import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import models  # noqa: E402

from cms.storage import private_storage  # noqa: E402


def fingerprint():
    storage = private_storage()
    counts, files = {}, {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        label = model._meta.label
        counts[label] = model._default_manager.count()
        private_fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.FileField) and f.storage.__class__ is storage.__class__
        ]
        for name in private_fields:
            for pk, stored in model._default_manager.exclude(**{name: ""}).values_list("pk", name).order_by("pk"):
                with storage.open(stored, "rb") as handle:
                    files[f"{label}.{name}:{pk}"] = [stored, hashlib.sha256(handle.read()).hexdigest()]
    return {"counts": counts, "private_files": files}


if __name__ == "__main__":
    print(json.dumps(fingerprint(), indent=1, sort_keys=True))
