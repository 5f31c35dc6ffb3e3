"""Dashboard pages over a real engine and store: sign-in, every page, actions by role."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.dashboard.conftest import csrf, seed, sign_in


def test_pages_need_a_session_and_a_valid_token(api: Api) -> None:
    answer = api.client.get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/dashboard/login")
    bad = api.client.post("/dashboard/login", data={"token": "ist_nope_nope"})
    assert bad.status_code == 401
    assert "unknown, revoked or mistyped" in bad.text
    api.client.cookies.set("isthmus_session", "e30.abc", path="/dashboard")
    forged = api.client.get("/dashboard")
    assert "Sign in" in forged.text


def test_overview_shows_real_numbers_and_what_needs_you(api: Api) -> None:
    seed(api)
    sign_in(api.client, api.tokens["viewer"])
    page = api.client.get("/dashboard")
    assert page.status_code == 200
    assert "1 dead letter in customers" in page.text
    assert "1 review item in customers waits for a decision" in page.text
    assert "<svg" in page.text
    runs = api.engine.store.runs("customers", 10)
    assert f"in {len(runs)} runs" in page.text
    for path in (
        "/dashboard/flows/customers",
        "/dashboard/dead-letters",
        "/dashboard/review",
        "/dashboard/reconcile",
        "/dashboard/records",
        "/dashboard/preview",
    ):
        assert api.client.get(path).status_code == 200, path


def test_a_viewer_cannot_act_and_sees_sensitive_fields_masked(api: Api) -> None:
    letter_id, item_id = seed(api)
    sign_in(api.client, api.tokens["viewer"])
    page = api.client.get(f"/dashboard/review/{item_id}")
    assert "***" in page.text
    assert "Keep crm" not in page.text
    answer = api.client.post(
        f"/dashboard/dead-letters/{letter_id}/replay",
        data={"csrf": csrf(api.client)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "needs+the+operator+role" in answer.headers["location"]
    assert api.engine.store.dead_letter(letter_id).status == "open"  # type: ignore[union-attr]


def test_a_form_without_the_csrf_value_does_nothing(api: Api) -> None:
    letter_id, _ = seed(api)
    sign_in(api.client, api.tokens["operator"])
    answer = api.client.post(f"/dashboard/dead-letters/{letter_id}/replay", data={})
    assert answer.status_code == 403
    assert api.engine.store.dead_letter(letter_id).status == "open"  # type: ignore[union-attr]


def test_an_operator_resolves_and_replays_from_the_pages(api: Api) -> None:
    letter_id, item_id = seed(api)
    sign_in(api.client, api.tokens["operator"])
    token = csrf(api.client)
    page = api.client.get(f"/dashboard/review/{item_id}")
    assert "Keep erp" in page.text
    assert "differs" in page.text
    done = api.client.post(
        f"/dashboard/review/{item_id}/resolve", data={"csrf": token, "take": "erp"}
    )
    assert "resolved" in done.text
    assert api.engine.store.review_item(item_id).resolved_by == "api:operator"  # type: ignore[union-attr]
    bad = next(iter(api.crm.records("Account")))
    for native_id in api.crm.records("Account"):
        if len(api.crm.get("Account", native_id)["Name"]) > 50:
            bad = native_id
    api.crm.put("Account", {"Name": "Bold"}, bad)
    replayed = api.client.post(f"/dashboard/dead-letters/{letter_id}/replay", data={"csrf": token})
    assert "replayed" in replayed.text
    assert api.engine.store.dead_letter(letter_id).status == "resolved"  # type: ignore[union-attr]
    again = api.client.post(f"/dashboard/dead-letters/{letter_id}/replay", data={"csrf": token})
    assert "already resolved" in again.text


def test_record_history_and_a_revoked_token_ends_the_session(api: Api) -> None:
    seed(api)
    sign_in(api.client, api.tokens["viewer"])
    account = next(iter(api.crm.records("Account")))
    page = api.client.get(f"/dashboard/records?system=crm&native_id={account}")
    assert "History" in page.text
    token_id = api.tokens["viewer"].split("_")[1]
    api.engine.store.revoke_token(token_id)
    assert "Sign in" in api.client.get("/dashboard").text


def test_no_dashboard_action_works_without_a_session(api: Api) -> None:
    letter_id, item_id = seed(api)
    paths = [
        f"/dashboard/dead-letters/{letter_id}/replay",
        f"/dashboard/review/{item_id}/resolve",
        "/dashboard/flows/customers/run",
        "/dashboard/flows/customers/pause",
        "/dashboard/reconcile",
        "/dashboard/preview",
        "/dashboard/logout",
    ]
    for path in paths:
        answer = api.client.post(path, data={"take": "erp"}, follow_redirects=False)
        assert answer.status_code == 403, path
    assert api.engine.store.dead_letter(letter_id).status == "open"  # type: ignore[union-attr]
    assert api.engine.store.review_item(item_id).status == "open"  # type: ignore[union-attr]
    assert api.engine.paused == set()


def test_only_an_admin_pauses_from_the_flow_page(api: Api) -> None:
    sign_in(api.client, api.tokens["operator"])
    refused = api.client.post("/dashboard/flows/customers/pause", data={"csrf": csrf(api.client)})
    assert "needs the admin role" in refused.text
    assert api.engine.paused == set()
    sign_in(api.client, api.tokens["admin"])
    done = api.client.post("/dashboard/flows/customers/pause", data={"csrf": csrf(api.client)})
    assert "Flow customers paused" in done.text
    assert api.engine.store.paused_flows() == {"customers"}


def test_the_mapping_preview_page_shows_field_changes(api: Api) -> None:
    from tests.api.test_mapping_preview import _changed_mapping

    api.crm.put("Account", {"Name": "Acme", "AccountNumber": "C-1", "Website": "a.example"})
    sign_in(api.client, api.tokens["operator"])
    page = api.client.post(
        "/dashboard/preview",
        data={"csrf": csrf(api.client), "mapping": _changed_mapping(), "flow": ""},
    )
    assert "1 of 1 records would change" in page.text
    assert "a.example" in page.text
    bad = api.client.post(
        "/dashboard/preview", data={"csrf": csrf(api.client), "mapping": "name: ["}
    )
    assert "not valid YAML" in bad.text
