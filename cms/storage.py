from django.core.files.storage import FileSystemStorage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """Files that no URL serves (CVs, reports, certificates). ``url()`` refuses: views
    check permission and stream the file as an attachment."""

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a permission-checked view.")


def private_storage():
    """The storage configured as ``STORAGES["private"]`` (a callable, so tests and
    deployments can swap it)."""
    return storages["private"]
