"""The bot-token scopes each Slack Web API method we call needs.

One table, read by the doctor (are the granted scopes enough?) and by a test that finds
every method the code calls and checks it is here and that slack-app-manifest.yaml asks
for exactly these scopes. Scopes per method are from each method's page on
api.slack.com/methods.
"""

from __future__ import annotations

#: Web API method → bot scopes it needs (any one of a tuple's alternatives is not enough:
#: public and private channels need their own scope, so both are listed).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    # Direct messages with the bot need their own scopes (who may change a DM's subscription).
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "users.info": ("users:read",),
    # Public channels only: private ones cannot be joined (the bot is /invite-d there).
    "conversations.join": ("channels:join",),
}
#: Methods called with the app-level token (its scope is ``connections:write``).
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
#: Scopes that no method call needs but a feature does.
FEATURE_SCOPES: dict[str, str] = {
    "commands": "the /ai slash command",
    "chat:write.public": "post in public channels the bot has not joined",
}


def required_scopes() -> set[str]:
    """Every bot scope digestbot needs."""
    needed = {scope for scopes in METHOD_SCOPES.values() for scope in scopes}
    return needed | set(FEATURE_SCOPES)
