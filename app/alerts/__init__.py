"""Alerts and incidents: rules admins define (``rules_views``), the conditions they test against
the responses (``conditions``), the incidents those open, update and resolve (``incidents``),
and their evaluation on every ``flask jobs run`` tick and after every committed load
(``evaluation``). Pages: open incidents, an incident's timeline, a flow's incidents (``views``).
"""
from flask import Blueprint

bp = Blueprint('alerts', __name__)

# The modules register routes and the load hook on import.
from . import delivery_views, evaluation, follow_views, rules_views, views  # noqa: E402,F401
