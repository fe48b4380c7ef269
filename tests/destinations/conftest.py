"""Fixtures of the destinations tests: a tenant trio, destinations, and a local HTTP sink."""

import pytest

from accounts.models import Membership
from tests.destinations.factories import DestinationFactory
from tests.destinations.sink import SinkServer
from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tests.tenants import *  # noqa: F403 (the tenant trio fixtures)


@pytest.fixture
def other_account(db):
    """Account B with its own admin: every object of it must be invisible to account A's users."""
    account = AccountFactory()
    MembershipFactory(account=account, user=UserFactory(), role=Membership.Role.ADMIN)
    return account


@pytest.fixture
def destination(account):
    return DestinationFactory(account=account)


@pytest.fixture
def sink():
    server = SinkServer().start()
    yield server
    server.stop()


@pytest.fixture
def allow_local(settings):
    """Lets destinations point at the local sink (the SSRF guard refuses 127.0.0.1 otherwise)."""
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
