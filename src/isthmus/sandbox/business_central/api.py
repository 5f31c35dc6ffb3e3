"""The API's request handling, independent of the web framework.

:meth:`BusinessCentralApi.dispatch` answers one OData request given its method, the path
after ``/api/v2.0/``, query, headers and JSON body. The HTTP routes and ``$batch`` both
call it, so a request behaves the same inside and outside a batch.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from isthmus.protocols.odata import QueryOptionError, QueryOptions, apply_query, make_etag
from isthmus.protocols.odata.envelope import collection_body, entity_body, error_body
from isthmus.sandbox.business_central import posting
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.business_central.documents import (
    BusinessRuleError,
    add_line,
    insert_document,
    price_line,
    recompute_totals,
    require,
    to_decimal,
)
from isthmus.sandbox.business_central.entities import (
    DECIMAL_FIELDS,
    LINE_SETS,
    MAX_LENGTHS,
    SPEC_BY_SET,
    field_names,
)
from isthmus.sandbox.business_central.messages import ApiError, ApiRequest, ApiResponse
from isthmus.sandbox.business_central.store import CompanyStore, NotFoundError, Record, new_id
from isthmus.sandbox.business_central.subscriptions_api import subscription_request
from isthmus.sandbox.business_central.webhooks import WebhookHub

SEGMENT = re.compile(r"^([A-Za-z.]+)(?:\(([^)]*)\))?$")
COMPUTED = frozenset(
    {
        "id",
        "lastModifiedDateTime",
        "number",
        "balanceDue",
        "inventory",
        "totalAmountExcludingTax",
        "totalTaxAmount",
        "totalAmountIncludingTax",
        "remainingAmount",
        "shippedQuantity",
        "invoicedQuantity",
        "status",
    }
)
ACTIONS = {
    ("salesQuotes", "makeOrder"): posting.make_order,
    ("salesOrders", "shipAndInvoice"): posting.ship_and_invoice,
    ("salesInvoices", "post"): posting.post_invoice,
    ("salesInvoices", "makeCorrectiveCreditMemo"): posting.make_corrective_credit_memo,
    ("salesCreditMemos", "post"): posting.post_credit_memo,
}


class BusinessCentralApi:
    """Entity reads and writes, bound actions and subscriptions over one store."""

    def __init__(self, config: SandboxConfig, store: CompanyStore, hub: WebhookHub) -> None:
        self.config = config
        self.store = store
        self.hub = hub

    def dispatch(self, request: ApiRequest) -> ApiResponse:
        try:
            with self.store.lock:
                return self._route(request)
        except ApiError as exc:
            return exc.response
        except BusinessRuleError as exc:
            status = 404 if exc.code == "Internal_RecordNotFound" else 400
            return ApiResponse(status, error_body(exc.code, exc.message))
        except QueryOptionError as exc:
            return ApiResponse(400, error_body("BadRequest", str(exc)))

    def _route(self, request: ApiRequest) -> ApiResponse:
        segments = [_segment(s) for s in request.path.strip("/").split("/") if s]
        if not segments:
            raise ApiError(404, "BadRequest_NotFound", "Name the entity set after /api/v2.0/.")
        head, head_key = segments[0]
        if head == "subscriptions":
            return subscription_request(self.hub, request, head_key)
        if head != "companies":
            raise ApiError(404, "BadRequest_NotFound", f"No resource segment {head!r}.")
        if len(segments) == 1 and head_key is None:
            return self._collection(request, list(self.store.companies.values()), "companies", None)
        if head_key is None or head_key.lower() not in self.store.companies:
            raise ApiError(404, "Internal_CompanyNotFound", f"Company {head_key!r} does not exist.")
        company = head_key.lower()
        if len(segments) == 1:
            return self._single(request, self.store.companies[company], "companies")
        return self._entity_path(request, company, segments[1:])

    def _entity_path(
        self, request: ApiRequest, company: str, segments: list[tuple[str, str | None]]
    ) -> ApiResponse:
        set_name, key = segments[0]
        spec = SPEC_BY_SET.get(set_name)
        if spec is None:
            raise ApiError(404, "BadRequest_NotFound", f"No entity set named {set_name!r}.")
        if len(segments) == 1:
            if key is None:
                return self._on_collection(request, company, set_name)
            return self._on_entity(request, company, set_name, key)
        if key is None:
            raise ApiError(
                400, "BadRequest", f"Address one {set_name} by id before {segments[1][0]}."
            )
        sub_name, sub_key = segments[1]
        if sub_name.startswith("Microsoft.NAV."):
            return self._action(
                request, company, set_name, key, sub_name.removeprefix("Microsoft.NAV.")
            )
        if sub_name != spec.lines_set:
            raise ApiError(
                404, "BadRequest_NotFound", f"{set_name} has no navigation property {sub_name!r}."
            )
        header = require(self.store, company, set_name, key)
        if sub_key is None:
            if request.method == "POST":
                line = add_line(
                    self.store, company, set_name, header, self._writable(sub_name, request.body)
                )
                return ApiResponse(
                    201, entity_body(self._context(request, company, sub_name), line)
                )
            rows = self.store.lines_of(company, sub_name, header["id"])
            return self._collection(request, rows, sub_name, company)
        return self._on_line(request, company, set_name, header, sub_name, sub_key)

    # -- collections and entities ---------------------------------------------------------
    def _rows(self, company: str, set_name: str) -> list[Record]:
        if set_name == "customerFinancialDetails":
            return posting.financial_details(self.store, company)
        return self.store.rows(company, set_name)

    def _on_collection(self, request: ApiRequest, company: str, set_name: str) -> ApiResponse:
        if request.method == "GET":
            return self._collection(request, self._rows(company, set_name), set_name, company)
        if request.method != "POST":
            raise ApiError(
                405,
                "BadRequest_MethodNotAllowed",
                f"{request.method} is not allowed on {set_name}.",
            )
        spec = SPEC_BY_SET[set_name]
        if spec.read_only or set_name in LINE_SETS:
            raise ApiError(405, "BadRequest_MethodNotAllowed", f"{set_name} is read-only here.")
        body = self._writable(set_name, request.body, allow_lines=spec.lines_set)
        if spec.lines_set:
            record = insert_document(self.store, company, set_name, body)
        elif set_name == "customerPayments":
            record = posting.apply_payment(self.store, company, body)
        else:
            record = dict.fromkeys(field_names(spec))
            record.update(body, id=body.get("id") or new_id())
            number = record.get("number")
            if number and self.store.has_number(company, set_name, str(number)):
                # BC's primary key of master data is the number: a second one is refused.
                raise ApiError(
                    400,
                    "Internal_EntityWithSameKeyExists",
                    f"The record in table {spec.type_name} already exists. Identification "
                    f"fields and values: No.='{number}'",
                )
            if set_name == "customers":
                record["number"] = record["number"] or self.store.next_number("C")
                record["balanceDue"] = Decimal(0)
                record["blocked"] = record["blocked"] or "_x0020_"
            self.store.put(company, set_name, record, "created")
        response = ApiResponse(201, entity_body(self._context(request, company, set_name), record))
        response.headers["Location"] = (
            f"{request.base_url}/companies({company})/{set_name}({record['id']})"
        )
        return response

    def _on_entity(self, request: ApiRequest, company: str, set_name: str, key: str) -> ApiResponse:
        if set_name == "customerFinancialDetails":
            rows = [r for r in self._rows(company, set_name) if r["id"] == key.lower()]
            if not rows:
                raise ApiError(404, "Internal_RecordNotFound", f"No customer {key!r}.")
            return self._single(request, rows[0], set_name, company)
        record = self._get(company, set_name, key)
        if request.method == "GET":
            return self._single(request, record, set_name, company)
        if SPEC_BY_SET[set_name].read_only:
            raise ApiError(405, "BadRequest_MethodNotAllowed", f"{set_name} is read-only.")
        self._check_if_match(request, record)
        if request.method == "DELETE":
            lines_set = SPEC_BY_SET[set_name].lines_set
            for line in self.store.lines_of(company, lines_set, record["id"]) if lines_set else []:
                self.store.delete(company, lines_set or "", line["id"])
            self.store.delete(company, set_name, record["id"])
            return ApiResponse(204)
        if request.method != "PATCH":
            raise ApiError(
                405, "BadRequest_MethodNotAllowed", f"{request.method} is not allowed here."
            )
        record.update(self._writable(set_name, request.body))
        if SPEC_BY_SET[set_name].lines_set:
            recompute_totals(self.store, company, set_name, record)
        self.store.put(company, set_name, record)
        return self._single(request, record, set_name, company)

    def _on_line(
        self,
        request: ApiRequest,
        company: str,
        set_name: str,
        header: Record,
        lines_set: str,
        line_id: str,
    ) -> ApiResponse:
        line = self._get(company, lines_set, line_id)
        if line["documentId"] != header["id"]:
            raise ApiError(
                404, "Internal_RecordNotFound", f"Line {line_id} is not on this document."
            )
        if request.method == "GET":
            return self._single(request, line, lines_set, company)
        self._check_if_match(request, line)
        if request.method == "DELETE":
            self.store.delete(company, lines_set, line["id"])
        elif request.method == "PATCH":
            changes = self._writable(lines_set, request.body)
            line.update(changes)
            if not {"shipQuantity", "invoiceQuantity"}.issuperset(changes):
                price_line(self.store, company, line, header["currencyCode"])
            self.store.put(company, lines_set, line)
        else:
            raise ApiError(
                405, "BadRequest_MethodNotAllowed", f"{request.method} is not allowed here."
            )
        recompute_totals(self.store, company, set_name, header)
        self.store.put(company, set_name, header)
        return (
            ApiResponse(204)
            if request.method == "DELETE"
            else self._single(request, line, lines_set, company)
        )

    def _action(
        self, request: ApiRequest, company: str, set_name: str, key: str, action: str
    ) -> ApiResponse:
        handler = ACTIONS.get((set_name, action))
        if request.method != "POST" or handler is None:
            raise ApiError(
                400,
                "BadRequest_NotFound",
                f"{set_name} has no bound action Microsoft.NAV.{action}.",
            )
        # A failing posting leaves nothing half-done: restore the state from before it.
        saved = self.store.snapshot()
        try:
            handler(self.store, company, key)
        except BusinessRuleError:
            self.store.restore(saved)
            raise
        return ApiResponse(204)

    # -- helpers --------------------------------------------------------------------------
    def _get(self, company: str, set_name: str, key: str) -> Record:
        try:
            return self.store.get(company, set_name, key.strip("'"))
        except NotFoundError as exc:
            raise ApiError(404, "Internal_RecordNotFound", str(exc.args[0])) from exc

    def _check_if_match(self, request: ApiRequest, record: Record) -> None:
        expected = request.headers.get("if-match")
        if request.method == "PATCH" and expected is None:
            raise ApiError(
                428,
                "Internal_ETagRequired",
                "PATCH needs an If-Match header: send the record's @odata.etag (or *).",
            )
        if expected not in (None, "*", make_etag(record)):
            raise ApiError(
                412,
                "Request_EntityChanged",
                "Another user has already changed the record; read it again and retry "
                "with its new @odata.etag.",
            )

    def _writable(self, set_name: str, body: Any, allow_lines: str | None = None) -> Record:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "The request body must be a JSON object.")
        known = field_names(SPEC_BY_SET[set_name])
        result: Record = {}
        for name, value in body.items():
            if name.startswith("@odata"):
                continue
            if allow_lines is not None and name == allow_lines:
                result[name] = [self._writable(allow_lines, line) for line in value or []]
                continue
            if name not in known:
                raise ApiError(
                    400,
                    "BadRequest_PropertyNotFound",
                    f"The property {name!r} does not exist on {set_name}.",
                )
            if (
                name in COMPUTED
                and name != "id"
                and not (name == "number" and set_name == "customers")
            ):
                if value in (None, 0, ""):
                    # Generic OData clients send every property, empty ones included; an
                    # empty read-only value asks for nothing, so it is ignored.
                    continue
                raise ApiError(400, "BadRequest_ReadOnly", f"The property {name!r} is read-only.")
            limit = MAX_LENGTHS.get(name)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                # BC's own words for a value longer than its Text/Code field.
                raise ApiError(
                    400,
                    "BadRequest",
                    f"The length of the string is {len(value)}, but it must be less than or "
                    f"equal to {limit} characters. Field: '{name}'.",
                )
            is_decimal = name in DECIMAL_FIELDS[set_name] and value is not None
            result[name] = to_decimal(value, name) if is_decimal else value
        return result

    def _context(self, request: ApiRequest, company: str | None, set_name: str) -> str:
        scope = f"companies({company})/{set_name}" if company else set_name
        return f"{request.base_url}/$metadata#{scope}"

    def _single(
        self, request: ApiRequest, record: Record, set_name: str, company: str | None = None
    ) -> ApiResponse:
        options = QueryOptions.parse(request.query)
        shaped = apply_query([record], options, 1, self._expander(company, set_name)).rows[0]
        body = entity_body(self._context(request, company, set_name) + "/$entity", shaped)
        body["@odata.etag"] = make_etag(record)
        return ApiResponse(200, body, {"ETag": make_etag(record)})

    def _collection(
        self, request: ApiRequest, rows: list[Record], set_name: str, company: str | None
    ) -> ApiResponse:
        options = QueryOptions.parse(request.query)
        known = field_names(SPEC_BY_SET[set_name])
        page = apply_query(
            rows, options, self.config.page_size, self._expander(company, set_name), known
        )
        ids = {row.get("id") for row in page.rows}
        full = {r["id"]: r for r in rows if r["id"] in ids}
        path = f"{request.base_url}/" + (
            f"companies({company})/{set_name}" if company else set_name
        )
        body = collection_body(
            self._context(request, company, set_name),
            page.rows,
            page.total,
            page.next_link(path, options, request.query),
            [full.get(row.get("id"), row) for row in page.rows],
        )
        return ApiResponse(200, body)

    def _expander(self, company: str | None, set_name: str) -> Any:
        lines_set = SPEC_BY_SET[set_name].lines_set if set_name in SPEC_BY_SET else None

        def expand(row: Record, nav: str) -> list[Record]:
            if company is None or nav != lines_set or lines_set is None:
                raise QueryOptionError(f"$expand: {set_name} has no navigation property {nav!r}")
            return self.store.lines_of(company, lines_set, row["id"])

        return expand


def _segment(text: str) -> tuple[str, str | None]:
    match = SEGMENT.match(text)
    if match is None:
        raise ApiError(404, "BadRequest_NotFound", f"Cannot read the URL segment {text!r}.")
    return match.group(1), match.group(2)
