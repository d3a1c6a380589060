"""The client's address, as the deployment says to trust it.

``TRUSTED_PROXY_COUNT`` (setting, from the environment, default 0) is the number of reverse
proxies in front of the application that append to ``X-Forwarded-For``. With 0 the header is
ignored and ``REMOTE_ADDR`` is the client (nothing a client sends can change it). With N, the
N-th address from the right of ``X-Forwarded-For`` is the client: the one the outermost
trusted proxy saw. A header with fewer entries than that falls back to the leftmost one
the proxies vouch for, never to an address only the client wrote.
"""

from django.conf import settings


def client_ip(request):
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    # The last `count` entries were appended by our proxies; the first of them is the client.
    return forwarded[-count] if len(forwarded) >= count else forwarded[0]
