"""Cross-cutting API plumbing shared by every app: base model, errors, pagination. Imports no app."""
