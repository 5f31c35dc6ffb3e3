"""The two systems a distributed test syncs between, as a parameter.

A pair starts its systems, seeds N records on the source side, changes them in
numbered versions, and reads back what the target holds and the order in which the
target received each record's versions. ``salesforce-sql`` is the Salesforce sandbox
(a subprocess of `isthmus sandbox salesforce`) to a SQL table in PostgreSQL, whose
trigger keeps every write's version in a history table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import create_engine, text

from tests.connectors.salesforce.conftest import options
from tests.distributed.services import ISTHMUS, Process, free_port, wait_until

API = "/services/data/v59.0"


@dataclass(frozen=True)
class Seen:
    """The target's state of one record: its latest version and every version written."""

    version: int
    history: list[int] = field(default_factory=list)
    rows: int = 1  # target rows carrying this record's key (1 = no duplicate)


class SystemPair(Protocol):
    name: str

    def start(self, folder: Path, database_url: str) -> None: ...
    def systems(self) -> dict[str, Any]: ...
    def mappings(self) -> dict[str, dict[str, Any]]: ...
    def flow(self) -> dict[str, Any]: ...
    def seed(self, count: int) -> None: ...
    def update(self, numbers: range, version: int) -> None: ...
    def target(self) -> dict[int, Seen]: ...
    def target_count(self) -> int: ...
    def stop(self) -> None: ...


def version_phone(version: int) -> str:
    return f"555-{version:04d}"


def phone_version(phone: str | None) -> int:
    return int(str(phone).rsplit("-", 1)[1])


TARGET_DDL = [
    """CREATE TABLE customers (
        no bigserial PRIMARY KEY,
        name varchar(255) NOT NULL,
        customer_no varchar(40),
        phone varchar(40),
        crm_ref varchar(64),
        modified timestamptz NOT NULL DEFAULT clock_timestamp()
    )""",
    "CREATE TABLE customer_writes (id bigserial PRIMARY KEY, customer_no text, phone text)",
    """CREATE FUNCTION keep_write() RETURNS trigger AS $$
    BEGIN
        INSERT INTO customer_writes (customer_no, phone) VALUES (NEW.customer_no, NEW.phone);
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER customers_write AFTER INSERT OR UPDATE ON customers
        FOR EACH ROW EXECUTE FUNCTION keep_write()""",
]


class SalesforceToSql:
    """Salesforce sandbox Accounts -> a PostgreSQL ``customers`` table."""

    name = "salesforce-sql"

    def __init__(self) -> None:
        self.sandbox: Process | None = None
        self.url = ""
        self.database_url = ""
        self.ids: dict[int, str] = {}  # record number -> Salesforce Id

    def start(self, folder: Path, database_url: str) -> None:
        self._start_salesforce(folder)
        self.database_url = database_url
        engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as connection:
            for statement in TARGET_DDL:
                connection.execute(text(statement))
        engine.dispose()

    def _start_salesforce(self, folder: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.sandbox = Process(
            "salesforce",
            [
                *ISTHMUS,
                "sandbox",
                "salesforce",
                f"--port={port}",
                "--volume=empty",
                "--daily-api-limit=100000000",
                "--max-concurrent=200",
                "--log-level=warning",
            ],
            folder,
        )
        wait_until(self._answers, 60, "the Salesforce sandbox answering")

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/services/data", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    def _client(self) -> httpx.Client:
        answer = httpx.post(
            f"{self.url}/services/oauth2/token",
            data={"grant_type": "client_credentials", **_client_credentials(self.url)},
        )
        answer.raise_for_status()
        token = answer.json()["access_token"]
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def systems(self) -> dict[str, Any]:
        return {
            "crm": {"connector": "salesforce", "options": options(self.url)},
            "erp": {
                "connector": "sql",
                "options": {
                    "url": self.database_url,
                    "objects": {
                        "customers": {
                            "table": "customers",
                            "key": "no",
                            "updated_at": "modified",
                            "external_key": "crm_ref",
                        }
                    },
                },
            },
        }

    def mappings(self) -> dict[str, dict[str, Any]]:
        fields = {
            "sf_account": (
                "Account",
                {"name": "Name", "number": "AccountNumber", "phone": "Phone"},
            ),
            "erp_customer": (
                "customers",
                {"name": "name", "number": "customer_no", "phone": "phone"},
            ),
        }
        return {
            name: {
                "name": name,
                "entity": "customer",
                "object": obj,
                "fields": [{"canonical": c, "native": n} for c, n in rules.items()],
            }
            for name, (obj, rules) in fields.items()
        }

    def flow(self) -> dict[str, Any]:
        return {
            "source": {"system": "crm", "object": "Account", "mapping": "sf_account"},
            "target": {"system": "erp", "object": "customers", "mapping": "erp_customer"},
        }

    def seed(self, count: int) -> None:
        with self._client() as client:
            for start in range(0, count, 200):
                numbers = range(start, min(start + 200, count))
                records = [
                    {
                        "attributes": {"type": "Account"},
                        "Name": f"Account {n:06d}",
                        "AccountNumber": f"N{n:06d}",
                        "Phone": version_phone(0),
                    }
                    for n in numbers
                ]
                answer = client.post(
                    f"{API}/composite/sobjects", json={"allOrNone": True, "records": records}
                )
                answer.raise_for_status()
                for n, result in zip(numbers, answer.json(), strict=True):
                    assert result["success"], result
                    self.ids[n] = result["id"]

    def update(self, numbers: range, version: int) -> None:
        with self._client() as client:
            for start in range(numbers.start, numbers.stop, 200):
                chunk = range(start, min(start + 200, numbers.stop))
                records = [
                    {
                        "attributes": {"type": "Account"},
                        "id": self.ids[n],
                        "Phone": version_phone(version),
                    }
                    for n in chunk
                ]
                answer = client.patch(
                    f"{API}/composite/sobjects", json={"allOrNone": True, "records": records}
                )
                answer.raise_for_status()
                assert all(result["success"] for result in answer.json()), answer.text

    def target(self) -> dict[int, Seen]:
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT customer_no, phone FROM customers")).all()
            writes = connection.execute(
                text("SELECT customer_no, phone FROM customer_writes ORDER BY id")
            ).all()
        engine.dispose()
        history: dict[int, list[int]] = {}
        for number, phone in writes:
            history.setdefault(int(number[1:]), []).append(phone_version(phone))
        seen: dict[int, Seen] = {}
        for number, phone in rows:
            key = int(number[1:])
            earlier = seen.get(key)
            seen[key] = Seen(
                phone_version(phone), history.get(key, []), (earlier.rows + 1) if earlier else 1
            )
        return seen

    def target_count(self) -> int:
        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM customers")).scalar_one()
        engine.dispose()
        return int(count)

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


def _client_credentials(url: str) -> dict[str, str]:
    found = options(url)
    return {"client_id": found["client_id"], "client_secret": found["client_secret"]}


class SalesforceToBusinessCentral(SalesforceToSql):
    """Salesforce sandbox Accounts -> Business Central sandbox customers (two sandboxes,
    each a subprocess of `isthmus sandbox`). The target keeps no write history, so the
    order each record's versions were applied in is read from the store's audit trail
    (every field decision, in commit order)."""

    name = "salesforce-business_central"
    tenant = "sandbox-tenant"
    environment = "sandbox"

    def __init__(self) -> None:
        super().__init__()
        self.erp: Process | None = None
        self.erp_url = ""
        self.company = ""
        self._token = ""

    def start(self, folder: Path, database_url: str) -> None:
        self._start_salesforce(folder)
        self.database_url = database_url
        port = free_port()
        self.erp_url = f"http://127.0.0.1:{port}"
        self.erp = Process(
            "business_central",
            [
                *ISTHMUS,
                "sandbox",
                "business-central",
                f"--port={port}",
                "--customers=0",
                "--items=0",
                "--rate-limit=100000000",
            ],
            folder,
        )
        wait_until(self._erp_answers, 60, "the Business Central sandbox answering")
        with self._erp_client() as client:
            companies = client.get(f"{self._erp_api()}/companies").json()["value"]
        self.company = companies[0]["id"]

    def _erp_api(self) -> str:
        return f"{self.erp_url}/v2.0/{self.tenant}/{self.environment}/api/v2.0"

    def _erp_answers(self) -> bool:
        try:
            return self._erp_token(timeout=2) != ""
        except httpx.HTTPError:
            return False

    def _erp_token(self, timeout: float = 60) -> str:
        if self._token:
            return self._token  # valid for an hour: longer than any test
        reply = httpx.post(
            f"{self.erp_url}/{self.tenant}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "isthmus-client",
                "client_secret": "isthmus-secret",
                "scope": "https://api.businesscentral.dynamics.com/.default",
            },
            timeout=timeout,
        )
        reply.raise_for_status()
        self._token = str(reply.json()["access_token"])
        return self._token

    def _erp_client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self._erp_token()}"}
        return httpx.Client(headers=headers, timeout=60)

    def systems(self) -> dict[str, Any]:
        return {
            "crm": {"connector": "salesforce", "options": options(self.url)},
            "erp": {
                "connector": "business_central",
                "options": {
                    "base_url": self.erp_url,
                    "login_url": self.erp_url,
                    "tenant": self.tenant,
                    "environment": self.environment,
                    "company": self.company,
                    "client_id": "isthmus-client",
                    "client_secret": "isthmus-secret",
                    "objects": {"customers": {"external_key": "number"}},
                },
            },
        }

    def mappings(self) -> dict[str, dict[str, Any]]:
        # Business Central keeps Isthmus's key in ``number``; the record is known by
        # its name, and its version travels in the phone number.
        fields = {
            "sf_account": ("Account", {"name": "Name", "phone": "Phone"}),
            "bc_customer": ("customers", {"name": "displayName", "phone": "phoneNumber"}),
        }
        return {
            name: {
                "name": name,
                "entity": "customer",
                "object": obj,
                "fields": [{"canonical": c, "native": n} for c, n in rules.items()],
            }
            for name, (obj, rules) in fields.items()
        }

    def flow(self) -> dict[str, Any]:
        return {
            "source": {"system": "crm", "object": "Account", "mapping": "sf_account"},
            "target": {"system": "erp", "object": "customers", "mapping": "bc_customer"},
        }

    def _customers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        with self._erp_client() as client:
            url: str | None = (
                f"{self._erp_api()}/companies({self.company})/customers"
                "?$select=displayName,phoneNumber"
            )
            while url:
                page = client.get(url).json()
                found.extend(page["value"])
                url = page.get("@odata.nextLink")
        return found

    def target(self) -> dict[int, Seen]:
        history = audit_history(self.database_url, {v: k for k, v in self.ids.items()})
        seen: dict[int, Seen] = {}
        for customer in self._customers():
            key = int(str(customer["displayName"]).rsplit(" ", 1)[1])
            earlier = seen.get(key)
            seen[key] = Seen(
                phone_version(customer.get("phoneNumber")),
                history.get(key, []),
                (earlier.rows + 1) if earlier else 1,
            )
        return seen

    def target_count(self) -> int:
        with self._erp_client() as client:
            reply = client.get(
                f"{self._erp_api()}/companies({self.company})/customers",
                params={"$top": "1", "$count": "true", "$select": "id"},
            )
        reply.raise_for_status()
        return int(reply.json()["@odata.count"])

    def stop(self) -> None:
        super().stop()
        if self.erp is not None:
            self.erp.stop()


def audit_history(database_url: str, numbers: dict[str, int]) -> dict[int, list[int]]:
    """Per source record, the phone versions the engine applied, in commit order."""
    from isthmus.store import open_store

    store = open_store(database_url)
    try:
        events = store.audit_events(flow="customers", system="crm", limit=10_000_000)
    finally:
        store.close()
    history: dict[int, list[int]] = {}
    for event in reversed(events):  # newest first -> oldest first
        number = numbers.get(event.native_id or "")
        if number is None:
            continue
        if event.action == "create" and isinstance(event.new_value, dict):
            phone = event.new_value.get("phone")
        elif event.field == "phone":
            phone = event.new_value
        else:
            continue
        if phone is not None:
            history.setdefault(number, []).append(phone_version(str(phone)))
    return history


PAIRS: dict[str, type[SalesforceToSql]] = {
    "salesforce-sql": SalesforceToSql,
    "salesforce-business_central": SalesforceToBusinessCentral,
}
