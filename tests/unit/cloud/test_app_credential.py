"""`AppCredential` keeps the app's credential as the state records it: a rotation's ACL user
survives the next `up` (a changed provider password is not a change) and its refresh (read
asks nothing); only a new database (scope) starts it again from the provider's credential."""

from __future__ import annotations

from components.cloud.app_credential import AppCredentialProvider

ROTATED = {"scope": "db-1", "name": "mentora_a", "secret": "tok-a", "extra": "rest-a"}


def test_a_new_provider_password_does_not_take_a_rotated_login_back() -> None:
    news = {"scope": "db-1", "name": "default", "secret": "reset-pw", "extra": "r"}
    diff = AppCredentialProvider().diff("id", ROTATED, news)
    assert diff.changes is False and not diff.replaces


def test_a_refresh_keeps_what_the_state_names() -> None:
    read = AppCredentialProvider().read("id", ROTATED)
    assert (read.id, read.outs) == ("id", ROTATED)


def test_a_new_database_starts_from_its_default_login() -> None:
    news = {"scope": "db-2", "name": "default", "secret": "pw", "extra": "r"}
    diff = AppCredentialProvider().diff("id", ROTATED, news)
    assert diff.changes is True and diff.replaces == ["scope"]
    created = AppCredentialProvider().create(news)
    assert created.outs == news and created.id


def test_a_never_rotated_credential_follows_a_reset_in_the_providers_console() -> None:
    """Before this resource the app's URL came straight from the provider: a password reset in
    the Upstash console reached the app at the next `up --refresh`. It still does."""
    olds = {"scope": "db-1", "name": "default", "secret": "old-pw", "extra": "r"}
    news = {**olds, "secret": "reset-in-console"}
    diff = AppCredentialProvider().diff("id", olds, news)
    assert diff.changes is True and not diff.replaces
    assert AppCredentialProvider().update("id", olds, news).outs == news
    assert AppCredentialProvider().diff("id", olds, dict(olds)).changes is False
