"""A self-hosted ChatKit server over the todo assistant (server.py), its threads stored as the
app's conversations (store.py). The endpoint is api/routes/chatkit.py."""
