"""The durable escalation queue: reports for hotline staff, stored in SQLite.

`Queue` files and works reports; `routing` picks a team and urgency from content/routing.yml;
`db` holds the schema and its numbered migrations; `cli` is `safemig queue ...`.
"""

from safemig.queue.db import connect, migrate
from safemig.queue.models import InvalidAction, NotStaff, QueueError, Report, ReportNotFound
from safemig.queue.routing import Routing, Team, load_routing
from safemig.queue.store import Queue

__all__ = [
    "InvalidAction",
    "NotStaff",
    "Queue",
    "QueueError",
    "Report",
    "ReportNotFound",
    "Routing",
    "Team",
    "connect",
    "load_routing",
    "migrate",
]
