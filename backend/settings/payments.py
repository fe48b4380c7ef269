"""Payments (Stripe): keys, API base, credit packs and subscription prices, client timeouts.

Imported by base.py.
"""

from backend.env import env, env_secret

STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# Credit packs sold through Stripe Checkout: "name=price_id:credits,..." (credits per unit).
STRIPE_CREDIT_PACKS = {
    name.strip(): {"price_id": price.strip(), "credits": int(credits)}
    for name, _, rest in (
        item.partition("=") for item in env.list("STRIPE_CREDIT_PACKS", default=[]) if item
    )
    for price, _, credits in [rest.rpartition(":")]
}
# Prices that start a subscription (Checkout in subscription mode, no credits).
STRIPE_SUBSCRIPTION_PRICE_IDS = env.list("STRIPE_SUBSCRIPTION_PRICE_IDS", default=[])
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
