"""Wagtail admin: package upload and import with progress. Filled by the import work."""
