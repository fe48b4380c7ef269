"""Helpers of the account lifecycle tests: reading tokens out of the emails sent."""

import re

from django.core import mail

TOKEN_IN_LINK = re.compile(r"token=([A-Za-z0-9_\-]+)")


def token_in(text: str) -> str:
    """The one-time token in the link of an email's text."""
    match = TOKEN_IN_LINK.search(text)
    assert match, text
    return match.group(1)


def token_from(message) -> str:
    """The one-time token in a sent message's link (text part)."""
    return token_in(message.body)


def last_mail_to(address: str):
    matching = [m for m in mail.outbox if address in m.to]
    assert matching, [m.to for m in mail.outbox]
    return matching[-1]
