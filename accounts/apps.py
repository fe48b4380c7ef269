from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    # allauth's `account` app is called "Accounts" in the admin too: keep the two apart.
    verbose_name = "Accounts & members"

    def ready(self):
        from accounts import receivers  # noqa: F401  (connects signal receivers)
