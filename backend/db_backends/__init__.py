"""Database backends of the project (Django's, with the project's connection policy)."""
