"""The tenant trio fixtures (an account's Admin, a normal member, and an outsider).

Imported by the conftests of the apps whose tests need them. They are not global on purpose:
`admin_user` / `admin_client` here replace pytest-django's superuser fixtures of the same name.
"""

import pytest

from accounts.models import Membership
from tests.conftest import jwt_client
from tests.factories import AccountFactory, MembershipFactory, UserFactory

__all__ = [
    "account",
    "admin_user",
    "member_user",
    "outsider",
    "admin_client",
    "member_client",
    "outsider_client",
]


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
