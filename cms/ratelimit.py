"""Rate limits shared by every process: fixed windows counted in Django's cache.

``take_rate(scope, ident, limit=…, period=…)`` counts one use of ``ident`` (a client address,
an e-mail address…) in ``scope`` for the current window of ``period`` seconds and says
whether it is allowed; ``give_back_rate`` undoes one use (e.g. a refused submission does
not count). Keys hold a hash of ``ident``, never the raw address. Nothing is kept in module
globals: the count lives in the ``default`` cache, which the deployment shares between
workers (``CACHE_BACKEND``: database table or Redis; a per-process cache would give each
worker its own allowance).

Correct under concurrency, whatever the cache:

* Redis (``django.core.cache.backends.redis.RedisCache``): one counter per window, created
  with its expiry and incremented in a single ``MULTI`` transaction (``SET NX EX`` then
  ``INCR``): Redis runs it atomically, so two workers can never read the same count.
* any other backend (database cache, locmem…): Django's ``incr`` is a read then a write
  there (``DatabaseCache.incr`` is not atomic: two workers can both read 4 and both write
  5), so it is not used. The window has ``limit`` numbered slots instead, and a use takes
  the first free one with ``cache.add``, which only one caller can win: the database cache
  inserts a row whose key is unique (the loser gets an integrity error, which ``add``
  reports as ``False``), locmem adds under a lock, memcached's ``add`` is atomic. When no
  slot can be added the limit is reached. A slot key is never reused after it expires (the
  window's number is part of it). Cost: two cache round trips per use (one ``get_many``,
  usually one ``add``); limits are small (a handful per hour).

Caveat for the database cache: rows beyond its ``MAX_ENTRIES`` are culled, counters
included; size it well above the number of keys one window can create.
"""

import hashlib
import math
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from cms.net import client_ip

CACHE_ALIAS = "default"


def _window(period, now):
    return int(now // period)


def _key(scope, ident, period, now):
    digest = hashlib.sha256(str(ident).encode()).hexdigest()[:32]  # no raw address in the cache
    return f"ratelimit:{scope}:{digest}:{period}:{_window(period, now)}"


def _retry_after(period, now):
    return max(1, math.ceil(period - now % period))


def _redis_take(cache, key, period):
    """The new count of ``key`` (created with a ``period`` expiry), atomically. Django's own
    ``incr`` checks that the key exists, then increments: a key expiring in between would be
    recreated without expiry. Hence the raw client (``RedisCache._cache.get_client``, the
    backend's documented way to reach redis-py) and a transaction. Django stores integers
    unpickled, so ``cache.get`` reads the same number."""
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=period, nx=True)
        pipe.incr(full_key)
        _created, used = pipe.execute()
    return int(used)


def _slots(key, limit):
    return [f"{key}:{number}" for number in range(1, limit + 1)]


def take_rate(scope, ident, *, limit, period, now=None):
    """Count one use of ``ident`` in ``scope`` (window of ``period`` seconds). Returns
    ``(True, 0)`` when allowed, else ``(False, seconds_until_the_window_ends)`` (a refused
    use is not counted)."""
    now = time.time() if now is None else now
    cache = caches[CACHE_ALIAS]
    key = _key(scope, ident, period, now)
    if limit <= 0:
        return False, _retry_after(period, now)
    if isinstance(cache, RedisCache):
        if _redis_take(cache, key, period) <= limit:
            return True, 0
        try:
            cache.decr(key)
        except ValueError:  # the window's counter just expired: nothing to give back
            pass
        return False, _retry_after(period, now)
    slots = _slots(key, limit)
    taken = cache.get_many(slots)
    for slot in slots:
        if slot not in taken and cache.add(slot, 1, timeout=period):
            return True, 0
    return False, _retry_after(period, now)


def give_back_rate(scope, ident, *, period, limit, now=None):
    """Undo one ``take_rate`` of the same window (e.g. a submission that was refused)."""
    now = time.time() if now is None else now
    cache = caches[CACHE_ALIAS]
    key = _key(scope, ident, period, now)
    if isinstance(cache, RedisCache):
        try:
            cache.decr(key)
        except ValueError:
            pass
        return
    slots = _slots(key, limit)
    taken = cache.get_many(slots)
    for slot in reversed(slots):  # free the highest slot held
        if slot in taken:
            cache.delete(slot)
            return


class RateThrottle(BaseThrottle):
    """A Django REST framework throttle on ``take_rate``: ``limit`` requests per ``period``
    seconds per client address (``cms.net.client_ip``, which honours ``TRUSTED_PROXY_COUNT``).
    Every request that reaches the throttle counts. Subclasses set ``scope``, ``limit`` and
    ``period``."""

    scope = None
    limit = None
    period = None

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        allowed, self.retry_after = take_rate(self.scope, self.get_ident(request), limit=self.limit, period=self.period)
        return allowed

    def wait(self):
        return self.retry_after or None
