"""Compatibility routes: each seed document's own paths, routed to the canonical views.

Kept in one place so the canonical API (backend/urls.py → each app's urls.py) stays clean.
Every view here is the same view class as the canonical route; the schema tags them `compat`.
Each app has its own section below; order matters where paths overlap (see comments).
"""

from django.urls import path  # noqa: F401

# --- users (seed 002 /api/access/..., seed 003 /users/..., seed 004 /api/v1/user/...) -----------
users_compat = []

# --- accounts (seed 003 /accounts/..., /users/ list, /users/invite/, /users/login/) -------------
accounts_compat = []

# --- endpoints (seed 002 /tasks/, /health/, seed 004 /api/health/) -------------------------------
endpoints_compat = []

# --- destinations (seed 003 /server/incoming_data/, /destinations/..., /accounts/{id}/logs/) -----
destinations_compat = []

urlpatterns = [*users_compat, *accounts_compat, *endpoints_compat, *destinations_compat]
