"""Tenant trio for the accounts tests: an account's Admin, a normal member, and an outsider."""

import pytest

from accounts.models import Membership
from tests.conftest import jwt_client
from tests.factories import AccountFactory, MembershipFactory, UserFactory


@pytest.fixture
def account(db):
    return AccountFactory()


@pytest.fixture
def admin_user(account):
    user = UserFactory()
    MembershipFactory(account=account, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def member_user(account):
    user = UserFactory()
    MembershipFactory(account=account, user=user, role=Membership.Role.NORMAL_USER)
    return user


@pytest.fixture
def outsider(db):
    """A user who administers another account, so being an Admin somewhere grants nothing here."""
    user = UserFactory()
    MembershipFactory(user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def admin_client(admin_user):
    return jwt_client(admin_user)


@pytest.fixture
def member_client(member_user):
    return jwt_client(member_user)


@pytest.fixture
def outsider_client(outsider):
    return jwt_client(outsider)


@pytest.fixture
def admin_membership(account, admin_user):
    return Membership.objects.get(account=account, user=admin_user)


@pytest.fixture
def member_membership(account, member_user):
    return Membership.objects.get(account=account, user=member_user)
