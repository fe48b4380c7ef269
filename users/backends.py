"""Authentication backend: log in with an email address or a username."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class EmailOrUsernameBackend(ModelBackend):
    """`authenticate(username=<email or username>, password=...)` (also accepts `email=`)."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        identifier = username or email or kwargs.get(get_user_model().USERNAME_FIELD)
        if not identifier or password is None:
            return None
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(identifier)
        except user_model.DoesNotExist:
            # Spend the same time as a real check so response time does not reveal accounts.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
