"""Input and output serializers of the identity app, one module per concern; this package
re-exports them so `from users.serializers import X` keeps working.
"""

from users.serializers.common import (
    PASSWORD_MAX_LENGTH,
    TOKEN_MAX_LENGTH,
    EmptySerializer,
    IdentityErrorSerializer,
    MessageSerializer,
    ProfileFieldsMixin,
    check_confirm,
    one_time_token_field,
    password_field,
    validate_birth_date,
    validate_notification_preferences,
    validate_phone_number,
)
from users.serializers.credits import (
    CreditHistorySerializer,
    CreditSpendSerializer,
    CreditSpentSerializer,
    CreditTransactionSerializer,
)
from users.serializers.devices import DeviceSerializer
from users.serializers.email_confirmation import (
    EmailConfirmationControlSerializer,
    EmailConfirmedSerializer,
    EmailTokenSerializer,
)
from users.serializers.login import (
    LegacyLoginResponseSerializer,
    LoginSerializer,
    TokenPairSerializer,
)
from users.serializers.passwords import (
    PasswordChangedSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    ResetPasswordControlSerializer,
)
from users.serializers.payments import (
    CheckoutSessionRequestSerializer,
    CheckoutSessionSerializer,
    StripeWebhookResultSerializer,
)
from users.serializers.pre_registration import PreRegisteredSerializer, PreRegisterSerializer
from users.serializers.profile import (
    AVATAR_FORMATS,
    AVATAR_MAX_SIDE,
    ProfileUpdateSerializer,
    StaffUserSerializer,
    UserBriefSerializer,
    UserSerializer,
    validate_avatar,
)
from users.serializers.registration import (
    CreatedUserSerializer,
    RegisterSerializer,
    RegisterWithConfirmSerializer,
)
from users.serializers.tokens import (
    LegacyRefreshResponseSerializer,
    LegacyRefreshTokenSerializer,
    LogoutSerializer,
    RefreshSerializer,
    VerifySerializer,
)

__all__ = [
    "AVATAR_FORMATS",
    "AVATAR_MAX_SIDE",
    "CheckoutSessionRequestSerializer",
    "CheckoutSessionSerializer",
    "CreatedUserSerializer",
    "CreditHistorySerializer",
    "CreditSpendSerializer",
    "CreditSpentSerializer",
    "CreditTransactionSerializer",
    "DeviceSerializer",
    "EmailConfirmationControlSerializer",
    "EmailConfirmedSerializer",
    "EmailTokenSerializer",
    "EmptySerializer",
    "IdentityErrorSerializer",
    "LegacyLoginResponseSerializer",
    "LegacyRefreshResponseSerializer",
    "LegacyRefreshTokenSerializer",
    "LoginSerializer",
    "LogoutSerializer",
    "MessageSerializer",
    "PASSWORD_MAX_LENGTH",
    "PasswordChangeSerializer",
    "PasswordChangedSerializer",
    "PasswordResetConfirmSerializer",
    "PasswordResetRequestSerializer",
    "PreRegisterSerializer",
    "PreRegisteredSerializer",
    "ProfileFieldsMixin",
    "ProfileUpdateSerializer",
    "RefreshSerializer",
    "RegisterSerializer",
    "RegisterWithConfirmSerializer",
    "ResetPasswordControlSerializer",
    "StaffUserSerializer",
    "StripeWebhookResultSerializer",
    "TOKEN_MAX_LENGTH",
    "TokenPairSerializer",
    "UserBriefSerializer",
    "UserSerializer",
    "VerifySerializer",
    "check_confirm",
    "one_time_token_field",
    "password_field",
    "validate_avatar",
    "validate_birth_date",
    "validate_notification_preferences",
    "validate_phone_number",
]
