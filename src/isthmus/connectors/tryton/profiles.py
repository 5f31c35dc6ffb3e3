"""What some Tryton models need beyond plain fields, so mappings can stay flat.

A Tryton party keeps its addresses and its e-mail and phone in child records, a product's
name and price live on its template, a sale's lines are child records and its state moves
only through buttons. Each ``Profile`` turns such a model into one flat record for the
engine and back:

- ``read_fields``: the fields read by default (all simple fields is slow: function fields
  such as a party's receivable are computed per record);
- ``virtual``: flat fields that do not exist on the model (``address.city``, ``lines``)
  with ``expand`` (read: fill them) and ``split`` (write: turn them into child writes);
- ``template``: for ``product.product``, the fields that live on ``product.template``;
- ``workflow``: the states in order and the button that leaves each one.

Models without a profile are read and written field by field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.connectors.base import FieldDescription
from isthmus.connectors.tryton.client import TrytonClient
from isthmus.errors import RecordError

Values = dict[str, Any]
ADDRESS_PARTS = ("street", "city", "postal_code", "country")
MECHANISMS = ("email", "phone", "mobile", "website")
LINE_KEYS = ("product", "quantity", "unit_price", "description")


@dataclass(frozen=True)
class Workflow:
    states: tuple[str, ...]  # in the order a record moves through them
    buttons: Mapping[str, str]  # state -> the button that moves it to the next state
    cancel: str | None = None  # the button that cancels (from the first two states)
    cancelled: str = "cancelled"


@dataclass(frozen=True)
class Profile:
    read_fields: tuple[str, ...]
    virtual: Mapping[str, FieldDescription] = field(default_factory=dict)
    template_fields: frozenset[str] = frozenset()
    workflow: Workflow | None = None
    # Required fields filled on create by Tryton (a sequence) or the connector (a
    # product's template), never asked of the mapping.
    filled: frozenset[str] = frozenset()


def _virtual(*names: str, kind: Any = "string", **extra: Any) -> dict[str, FieldDescription]:
    return {name: FieldDescription(name, kind, **extra) for name in names}


_STAMPS = ("create_date", "write_date", "last_modified_at")

PROFILES: Mapping[str, Profile] = {
    "party.party": Profile(
        read_fields=("name", "code", "active", "lang", "credit_limit_amount", *_STAMPS),
        virtual={
            **_virtual(*(f"address.{part}" for part in ADDRESS_PARTS)),
            **_virtual(*MECHANISMS),
        },
        filled=frozenset({"code"}),
    ),
    "party.contact_mechanism": Profile(
        read_fields=("party", "type", "value", "name", "comment", "active", *_STAMPS),
    ),
    "product.product": Profile(
        read_fields=(
            "code",
            "suffix_code",
            "template",
            "description",
            "active",
            "template.name",
            "template.code",
            "template.list_price",
            "template.type",
            "template.salable",
            "template.default_uom",
            "template.sale_uom",
            "template.account_category",
            *_STAMPS,
        ),
        template_fields=frozenset(
            {"name", "code", "list_price", "type", "salable", "default_uom", "sale_uom"}
            | {"account_category"}
        ),
        filled=frozenset({"template"}),
    ),
    "product.price_list.line": Profile(
        read_fields=("price_list", "product", "quantity", "formula", "sequence", *_STAMPS),
        virtual=_virtual("unit_price", kind="decimal"),
    ),
    "sale.sale": Profile(
        read_fields=(
            "number",
            "reference",
            "description",
            "party",
            "sale_date",
            "state",
            "currency",
            "currency.code",
            "untaxed_amount",
            "tax_amount",
            "total_amount",
            "invoice_state",
            "shipment_state",
            "payment_term",
            "price_list",
            "invoice_address",
            "shipment_address",
            "comment",
            *_STAMPS,
        ),
        virtual=_virtual("lines", kind="json"),
        workflow=Workflow(
            ("draft", "quotation", "confirmed", "processing", "done"),
            {"draft": "quote", "quotation": "confirm", "confirmed": "process"},
            cancel="cancel",
        ),
    ),
    "account.invoice": Profile(
        read_fields=(
            "number",
            "reference",
            "description",
            "type",
            "party",
            "invoice_date",
            "state",
            "currency",
            "currency.code",
            "untaxed_amount",
            "tax_amount",
            "total_amount",
            "amount_to_pay",
            "payment_term",
            "sales",
            *_STAMPS,
        ),
        virtual={**_virtual("lines", kind="json"), **_virtual("sale", kind="reference")},
        workflow=Workflow(
            ("draft", "validated", "posted", "paid"),
            {"draft": "validate_invoice", "validated": "post"},
            cancel="cancel",
        ),
    ),
    "account.payment": Profile(
        read_fields=(
            "number",
            "reference",
            "party",
            "date",
            "amount",
            "kind",
            "state",
            "journal",
            "currency.code",
            "line",
            "line.move_origin",
            *_STAMPS,
        ),
        virtual=_virtual("invoice", kind="reference"),
    ),
}


def flatten_dotted(row: Values) -> Values:
    """``{"template.": {"name": "W"}}`` (Tryton's dotted read) -> ``{"template.name": "W"}``."""
    out: Values = {}
    for key, value in row.items():
        if key.endswith(".") and (isinstance(value, dict) or value is None):
            for sub, item in (value or {}).items():
                if sub != "id":
                    out[f"{key}{sub}"] = item
        else:
            out[key] = value
    return out


def decimal_of(text: Any) -> Decimal | None:
    try:
        return Decimal(str(text).strip()) if text not in (None, "") else None
    except InvalidOperation:
        return None


class Shapes:
    """The profile hooks, with the look-ups they need (countries, units) cached."""

    def __init__(self, client: TrytonClient) -> None:
        self.client = client
        self._countries: dict[str, int] = {}
        self._sale_units: dict[int, int] = {}
        self._list_prices: dict[int, Any] = {}

    # -- reading -----------------------------------------------------------------------

    async def expand(self, model: str, rows: list[Values]) -> None:
        """Fill the virtual fields of ``rows`` (already flattened) in place."""
        if not rows:
            return
        ids = [row["id"] for row in rows]
        if model == "party.party":
            await self._expand_parties(ids, rows)
        elif model == "product.product":
            for row in rows:
                for name in PROFILES[model].template_fields:
                    row[name] = row.pop(f"template.{name}", None)
        elif model == "product.price_list.line":
            for row in rows:
                row["unit_price"] = decimal_of(row.get("formula"))
        elif model == "sale.sale":
            await self._expand_lines("sale.line", "sale", ids, rows)
        elif model == "account.invoice":
            await self._expand_lines("account.invoice.line", "invoice", ids, rows)
            for row in rows:
                sales = row.get("sales") or []
                row["sale"] = sales[0] if sales else None
        elif model == "account.payment":
            for row in rows:
                origin = str(row.pop("line.move_origin", None) or "")
                kind, _, number = origin.partition(",")
                row["invoice"] = int(number) if kind == "account.invoice" and number else None

    async def _expand_parties(self, ids: list[int], rows: list[Values]) -> None:
        addresses = await self.client.model(
            "party.address",
            "search_read",
            [("party", "in", ids)],
            0,
            None,
            [("sequence", "ASC"), ("id", "ASC")],
            ["party", "street", "city", "postal_code", "country.code"],
            context={"active_test": False},
        )
        first: dict[int, Values] = {}
        for address in addresses:
            first.setdefault(address["party"], flatten_dotted(address))
        mechanisms = await self.client.model(
            "party.contact_mechanism",
            "search_read",
            [("party", "in", ids), ("type", "in", list(MECHANISMS))],
            0,
            None,
            [("sequence", "ASC"), ("id", "ASC")],
            ["party", "type", "value"],
        )
        found: dict[tuple[int, str], str] = {}
        for mechanism in mechanisms:
            found.setdefault((mechanism["party"], mechanism["type"]), mechanism["value"])
        for row in rows:
            address = first.get(row["id"], {})
            for part in ADDRESS_PARTS:
                key = "country.code" if part == "country" else part
                row[f"address.{part}"] = address.get(key) or None
            for kind in MECHANISMS:
                row[kind] = found.get((row["id"], kind))

    async def _expand_lines(
        self, line_model: str, parent: str, ids: list[int], rows: list[Values]
    ) -> None:
        lines = await self.client.model(
            line_model,
            "search_read",
            [(parent, "in", ids), ("type", "=", "line")],
            0,
            None,
            [("sequence", "ASC"), ("id", "ASC")],
            [parent, "product", "quantity", "unit_price", "description", "amount"],
        )
        grouped: dict[int, list[Values]] = {}
        for line in lines:
            grouped.setdefault(line.pop(parent), []).append(
                {k: line.get(k) for k in (*LINE_KEYS, "amount")}
            )
        for row in rows:
            row["lines"] = grouped.get(row["id"], [])

    # -- writing -----------------------------------------------------------------------

    async def split(
        self, model: str, values: Values, record_id: int | None
    ) -> tuple[Values, Values, RecordError | None]:
        """``values`` -> (the model's own values, the template's values, an error)."""
        own = dict(values)
        template: Values = {}
        try:
            if model == "party.party":
                await self._split_party(own, record_id)
            elif model == "product.product":
                for name in PROFILES[model].template_fields & set(own):
                    template[name] = own.pop(name)
            elif model == "product.price_list.line" and "unit_price" in own:
                price = own.pop("unit_price")
                own["formula"] = str(price) if price is not None else None
            elif model == "sale.sale":
                await self._split_sale(own, record_id)
        except _Refused as refused:
            return own, template, refused.error
        return own, template, None

    async def _split_party(self, own: Values, record_id: int | None) -> None:
        address = {
            part: own.pop(f"address.{part}") for part in ADDRESS_PARTS if f"address.{part}" in own
        }
        if "country" in address:
            address["country"] = await self._country(address["country"])
        if address:
            existing = []
            if record_id is not None:
                existing = await self.client.model(
                    "party.address",
                    "search",
                    [("party", "=", record_id)],
                    0,
                    1,
                    [("sequence", "ASC"), ("id", "ASC")],
                )
            own["addresses"] = (
                [["write", existing, address]] if existing else [["create", [address]]]
            )
        actions: list[list[Any]] = []
        for kind in MECHANISMS:
            if kind not in own:
                continue
            value = own.pop(kind)
            current: list[Values] = []
            if record_id is not None:
                current = await self.client.model(
                    "party.contact_mechanism",
                    "search_read",
                    [("party", "=", record_id), ("type", "=", kind)],
                    0,
                    1,
                    [("sequence", "ASC"), ("id", "ASC")],
                    ["value"],
                )
            if current and not value:
                actions.append(["delete", [current[0]["id"]]])
            elif current and current[0]["value"] != value:
                actions.append(["write", [current[0]["id"]], {"value": value}])
            elif not current and value:
                actions.append(["create", [{"type": kind, "value": value}]])
        if actions:
            own["contact_mechanisms"] = actions

    async def _country(self, code: Any) -> int | None:
        if code in (None, ""):
            return None
        key = str(code).upper()
        if key not in self._countries:
            found = await self.client.model("country.country", "search", [("code", "=", key)])
            if not found:
                raise _Refused(
                    RecordError(
                        "validation",
                        f"country {key!r} does not exist in Tryton; add it (Tryton ships "
                        "none: run trytond_import_countries) or map the value",
                        field="address.country",
                    )
                )
            self._countries[key] = int(found[0])
        return self._countries[key]

    async def _split_sale(self, own: Values, record_id: int | None) -> None:
        if record_id is None and own.get("party") and "invoice_address" not in own:
            # A raw create runs no on_change: the addresses the client would fill.
            address = await self.client.model(
                "party.address",
                "search",
                [("party", "=", own["party"])],
                0,
                1,
                [("sequence", "ASC"), ("id", "ASC")],
            )
            if address:
                own["invoice_address"] = own.setdefault("shipment_address", address[0])
        if "lines" not in own:
            return
        lines = own.pop("lines") or []
        if not isinstance(lines, Sequence) or isinstance(lines, str):
            raise _Refused(RecordError("validation", "lines must be a list", field="lines"))
        creates = [await self._sale_line(line) for line in lines]
        if record_id is None:
            own["lines"] = [["create", creates]] if creates else []
            return
        (sale,) = await self.client.model("sale.sale", "read", [record_id], ["state", "lines"])
        if sale["state"] != "draft":
            return  # Tryton freezes lines once quoted: the lines stay as they are
        own["lines"] = [["delete", sale["lines"]], ["create", creates]]

    async def _sale_line(self, line: Any) -> Values:
        if not isinstance(line, Mapping) or not line.get("product"):
            raise _Refused(
                RecordError(
                    "validation",
                    f"a sale line needs a product (got {line!r})",
                    field="lines",
                )
            )
        product = int(line["product"])
        if product not in self._sale_units:
            rows = await self.client.model(
                "product.product", "read", [product], ["template.sale_uom", "list_price_used"]
            )
            row = flatten_dotted(rows[0])
            self._sale_units[product] = int(row["template.sale_uom"])
            self._list_prices[product] = row.get("list_price_used")
        created: Values = {
            "type": "line",
            "product": product,
            "unit": self._sale_units[product],
            "quantity": float(line.get("quantity") or 1),
        }
        # A raw create computes no price: the line's own, else the product's list price.
        price = line.get("unit_price")
        if price is None:
            price = self._list_prices.get(product)
        if price is not None:
            created["unit_price"] = Decimal(str(price))
        if line.get("description"):
            created["description"] = str(line["description"])
        return created


class _Refused(Exception):
    def __init__(self, error: RecordError) -> None:
        self.error = error
        super().__init__(error.message)
