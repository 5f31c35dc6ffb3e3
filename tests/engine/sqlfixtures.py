"""Two SQLite "systems" with a products table each, and a config syncing them.

Used by the crash, echo and scale tests: real databases, the real SQL connector, the
real CLI or engine; nothing mocked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
)

SOURCE = MetaData()
source_products = Table(
    "products",
    SOURCE,
    Column("id", String(20), primary_key=True),
    Column("code", String(40), nullable=False),
    Column("name", String(120), nullable=False),
    Column("description", String(400)),
    Column("unit", String(10)),
    Column("active", Boolean, nullable=False, default=True),
    Column("ext_ref", String(36)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The indexes any real system has on what integrations read by: the change feed's
    # keyset and the codes and keys records are looked up by.
    Index("products_changes", "updated_at", "id"),
    Index("products_code", "code"),
    Index("products_ext_ref", "ext_ref"),
)
TARGET = MetaData()
# The target's key is an autoincrement integer and its external key column is NOT
# unique: a broken write protocol would show up as duplicate rows, not as errors.
target_products = Table(
    "items",
    TARGET,
    Column("no", Integer, primary_key=True, autoincrement=True),
    Column("item_code", String(40), nullable=False),
    Column("title", String(120), nullable=False),
    Column("notes", String(400)),
    Column("uom", String(10)),
    Column("active", Boolean, nullable=False, default=True),
    Column("isthmus_id", String(36)),
    Column("modified", DateTime(timezone=True), nullable=False),
    Index("items_changes", "modified", "no"),
    Index("items_code", "item_code"),
    Index("items_isthmus_id", "isthmus_id"),
)

SOURCE_MAPPING = """\
name: src_product
entity: product
object: products
fields:
  - {canonical: code, native: code}
  - {canonical: name, native: name}
  - {canonical: description, native: description}
  - {canonical: unit, native: unit}
  - {canonical: active, native: active}
"""
TARGET_MAPPING = """\
name: dst_product
entity: product
object: items
fields:
  - {canonical: code, native: item_code}
  - {canonical: name, native: title}
  - {canonical: description, native: notes}
  - {canonical: unit, native: uom}
  - {canonical: active, native: active}
"""
CONFIG = """\
version: 1
store: sqlite:///state.db
systems:
  src:
    connector: sql
    options:
      url: sqlite:///{directory}/source.db
      objects:
        products: {{table: products, key: id, updated_at: updated_at, external_key: ext_ref}}
  dst:
    connector: sql
    options:
      url: sqlite:///{directory}/target.db
      objects:
        items: {{table: items, key: "no", updated_at: modified, external_key: isthmus_id}}
mappings: [mappings/]
flows:
  - name: products
    entity: product
    source: {{system: src, object: products, mapping: src_product}}
    target: {{system: dst, object: items, mapping: dst_product}}
    direction: {direction}
    page_size: {page_size}
    conflict: {{default: {conflict}}}
    match: {{keys: [code]}}
"""


def write_setup(
    directory: Path,
    rows: int,
    *,
    direction: str = "one_way",
    page_size: int = 500,
    conflict: str = "source",
) -> Path:
    """Create both databases (``rows`` source products) and the config; return its path."""
    source = create_engine(f"sqlite:///{directory}/source.db")
    target = create_engine(f"sqlite:///{directory}/target.db")
    SOURCE.create_all(source)
    TARGET.create_all(target)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with source.begin() as tx:
        batch = [
            {
                "id": f"P{n:07d}",
                "code": f"SKU-{n:07d}",
                "name": f"Product {n}",
                "description": f"Description of product {n} – ünïcode ✓",
                "unit": "pcs",
                "active": True,
                "updated_at": start + timedelta(microseconds=n),
            }
            for n in range(rows)
        ]
        for offset in range(0, len(batch), 5000):
            tx.execute(source_products.insert(), batch[offset : offset + 5000])
    source.dispose()
    target.dispose()
    (directory / "mappings").mkdir(exist_ok=True)
    (directory / "mappings" / "src.yaml").write_text(SOURCE_MAPPING)
    (directory / "mappings" / "dst.yaml").write_text(TARGET_MAPPING)
    config = directory / "isthmus.yaml"
    config.write_text(
        CONFIG.format(
            directory=directory, direction=direction, page_size=page_size, conflict=conflict
        )
    )
    return config
