"""The chat agent: which model answers (choice.py, no SDK import), the model built for it
(provider.py), the todo assistant on it (assistant.py) and the offline assistant (offline/)."""
