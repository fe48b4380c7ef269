"""Tenant trio for the accounts tests: an account's Admin, a normal member, and an outsider."""

import pytest

from accounts.models import Membership
from tests.tenants import *  # noqa: F403 (the tenant trio fixtures)


@pytest.fixture
def admin_membership(account, admin_user):
    return Membership.objects.get(account=account, user=admin_user)


@pytest.fixture
def member_membership(account, member_user):
    return Membership.objects.get(account=account, user=member_user)
