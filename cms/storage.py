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


def _s3_storage_class():
    # django-storages' S3 backend needs boto3, imported only when S3 is configured.
    from storages.backends.s3 import S3Storage

    return S3Storage


def __getattr__(name):
    """``PrivateS3Storage`` is built on first use, so that this module imports without boto3."""
    if name == "PrivateS3Storage":
        base = _s3_storage_class()

        class PrivateS3Storage(base):
            """Private files on S3-compatible object storage: like the filesystem storage,
            ``url()`` refuses (no public nor pre-signed URL is handed out); views stream
            the file through a permission check."""

            def url(self, name, parameters=None, expire=None, http_method=None):
                raise ValueError("Private files have no public URL; serve them through a permission-checked view.")

        PrivateS3Storage.__qualname__ = "PrivateS3Storage"
        globals()["PrivateS3Storage"] = PrivateS3Storage
        return PrivateS3Storage
    raise AttributeError(name)
