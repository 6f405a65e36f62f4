"""A self-hosted ChatKit endpoint over the todo assistant (see routes.py and store.py).

Only the router is exported: the app mounts it at start-up, and the ChatKit server (with the
Agents SDK behind it) is imported by the handler on the first ChatKit request.
"""

from .routes import router

__all__ = ["router"]
