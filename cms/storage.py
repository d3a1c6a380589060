from django.core.files.storage import storages


def private_storage():
    """Storage for files that no URL serves (CVs, reports, certificates): views check
    permission and stream them as attachments. Configured as ``STORAGES["private"]``."""
    return storages["private"]
