"""Emails of the identity app: rendered from users/templates/users/email/, sent after commit.

Sending happens in `transaction.on_commit`, so a rolled-back write never mails a token that does
not exist. A mail failure is logged (never the token) and does not fail the request: the user can
ask for another link.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render(template: str, context: dict) -> EmailMultiAlternatives:
    """The message of `template` (`<name>_subject.txt`, `<name>.txt`, `<name>.html`)."""
    base = f"users/email/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    text = render_to_string(f"{base}.txt", context)
    html = render_to_string(f"{base}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [context["to"]])
    message.attach_alternative(html, "text/html")
    return message


def send_now(template: str, context: dict) -> bool:
    try:
        render(template, context).send(fail_silently=False)
    except Exception:
        logger.exception("Could not send the %s email to user %s", template, context["user_id"])
        return False
    return True


def send_on_commit(template: str, context: dict) -> None:
    """Sends the email once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_now(template, context))
