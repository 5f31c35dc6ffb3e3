"""Server-side OData v4 helpers shared by every OData sandbox (Business Central, Dataverse, ...).

Nothing here knows a vendor: an entity model describes the entity sets, and the helpers turn
query options, JSON envelopes, ETags and ``$batch`` requests into plain Python values.
"""

from __future__ import annotations

from isthmus.protocols.odata.batch import BatchError, BatchRequest, BatchResponse, run_batch
from isthmus.protocols.odata.edm import (
    EntitySet,
    EntityType,
    NavigationProperty,
    Property,
    ServiceModel,
)
from isthmus.protocols.odata.envelope import collection_body, entity_body, error_body, make_etag
from isthmus.protocols.odata.filter import FilterSyntaxError, evaluate_filter, parse_filter
from isthmus.protocols.odata.query import Page, QueryOptionError, QueryOptions, apply_query

__all__ = [
    "BatchError",
    "BatchRequest",
    "BatchResponse",
    "EntitySet",
    "EntityType",
    "FilterSyntaxError",
    "NavigationProperty",
    "Page",
    "Property",
    "QueryOptionError",
    "QueryOptions",
    "ServiceModel",
    "apply_query",
    "collection_body",
    "entity_body",
    "error_body",
    "evaluate_filter",
    "make_etag",
    "parse_filter",
    "run_batch",
]
