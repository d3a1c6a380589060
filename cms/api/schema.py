def only_public_api(endpoints):
    """Keep /api/v1/ in the OpenAPI schema; Wagtail's internal admin API is not ours to document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
