"""Users and API tokens on both backends."""

from __future__ import annotations

from isthmus.store import ApiToken, SqlStore, User


def test_users_are_added_and_their_role_changed(store: SqlStore) -> None:
    store.add_user(User("ana", "viewer"))
    store.add_user(User("bo", "admin"))
    store.add_user(User("ana", "operator"))
    assert [(user.name, user.role) for user in store.users()] == [
        ("ana", "operator"),
        ("bo", "admin"),
    ]
    found = store.user("ana")
    assert found is not None
    assert found.created_at is not None
    assert store.user("nobody") is None


def test_tokens_are_kept_and_revoked_once(store: SqlStore) -> None:
    store.add_user(User("ana", "viewer"))
    store.add_token(ApiToken("t1", "ana", "salt", "hash"))
    store.add_token(ApiToken("t2", "ana", "salt2", "hash2"))
    token = store.token("t1")
    assert token is not None
    assert (token.user_name, token.salt, token.token_hash, token.revoked_at) == (
        "ana",
        "salt",
        "hash",
        None,
    )
    assert store.revoke_token("t1") is True
    assert store.revoke_token("t1") is False
    assert store.revoke_token("missing") is False
    revoked = store.token("t1")
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert [token.id for token in store.tokens("ana")] == ["t1", "t2"]
    assert store.tokens("bo") == []
