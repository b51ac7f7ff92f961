"""Runtime: ``digestbot run`` — scheduler, chat listeners and the HTTP endpoints in one loop.

``service`` assembles the parts, ``health`` serves ``/healthz`` and ``/metrics`` and mounts
the web reader (``bot.web``) on the same app, ``doctor`` checks a setup once
(``digestbot doctor``). This is the top of the import graph: nothing below imports it.
"""

from __future__ import annotations

from bot.runtime.doctor import diagnose
from bot.runtime.health import bound_port, start_health_server, start_http_server
from bot.runtime.service import Service, make_owner, run

__all__ = [
    "Service",
    "bound_port",
    "diagnose",
    "make_owner",
    "run",
    "start_health_server",
    "start_http_server",
]
