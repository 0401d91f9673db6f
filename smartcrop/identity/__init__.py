"""Who may do what: passwords, tokens, login throttling, users, roles, QA rules and
the QA toggle.

The public functions are named here; callers outside the package use these names.
"""

from smartcrop.identity.login import WRONG_CREDENTIALS, LoginResult, login
from smartcrop.identity.passwords import (
    MIN_PASSWORD_LENGTH,
    WeakPasswordError,
    check_password_policy,
    hash_password,
    verify_password,
)
from smartcrop.identity.qa_toggle import qc_disabled, set_qc_disabled
from smartcrop.identity.roles import (
    create_role,
    delete_role,
    list_roles,
    rename_role,
    role_view,
)
from smartcrop.identity.rules import (
    create_rule,
    deactivate_rule,
    list_rules,
    rule_view,
    update_rule,
)
from smartcrop.identity.tokens import (
    Claims,
    Identity,
    authenticate,
    decode_token,
    issue_token,
    purge_revoked_tokens,
    revoke_token,
    signing_secret,
    token_ttl,
)
from smartcrop.identity.users import (
    ADMIN,
    change_password,
    create_user,
    deactivate_user,
    has_active_admin,
    list_users,
    register_user,
    update_user,
    user_roles,
    user_view,
)

__all__ = [
    "ADMIN",
    "MIN_PASSWORD_LENGTH",
    "WRONG_CREDENTIALS",
    "Claims",
    "Identity",
    "LoginResult",
    "WeakPasswordError",
    "authenticate",
    "change_password",
    "check_password_policy",
    "create_role",
    "create_rule",
    "create_user",
    "deactivate_rule",
    "deactivate_user",
    "decode_token",
    "delete_role",
    "has_active_admin",
    "hash_password",
    "issue_token",
    "list_roles",
    "list_rules",
    "list_users",
    "login",
    "purge_revoked_tokens",
    "qc_disabled",
    "register_user",
    "rename_role",
    "revoke_token",
    "role_view",
    "rule_view",
    "set_qc_disabled",
    "signing_secret",
    "token_ttl",
    "update_rule",
    "update_user",
    "user_roles",
    "user_view",
    "verify_password",
]
