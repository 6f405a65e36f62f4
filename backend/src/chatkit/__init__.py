"""A self-hosted ChatKit endpoint over the todo assistant (see routes.py and store.py)."""

from .routes import router
from .server import TodoChatKitServer
from .store import ChatKitContext, ConversationStore

__all__ = ["ChatKitContext", "ConversationStore", "TodoChatKitServer", "router"]
