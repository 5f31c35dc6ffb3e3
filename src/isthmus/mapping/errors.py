"""Errors of the mapping layer: a native or canonical value that a mapping cannot carry.

A ``MappingError`` concerns one record (an unmapped picklist value, a float where money
belongs, an unparseable date), so the engine turns it into a ``RecordError`` value and
dead-letters that record alone; the rest of the batch goes on. Its message always names
the field and the value and says what to change, because "silent data corruption" from
picklists and formats is the top mapping pain users report.
"""

from __future__ import annotations

from typing import Any

from isthmus.errors import IsthmusError, RecordError

_SHOWN = 60


def shorten(value: Any, limit: int = _SHOWN) -> str:
    """``repr`` of a value, cut so one huge text does not flood a log line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MappingError(IsthmusError):
    """A value one record holds cannot be mapped; the message says what to do."""

    def __init__(self, message: str, *, field: str | None = None, value: Any = None) -> None:
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def with_field(self, field: str) -> MappingError:
        """The same error, naming ``field`` when the raiser did not know it (pure helpers)."""
        if self.field is not None:
            return self
        return MappingError(self.message, field=field, value=self.value)

    def to_record_error(self) -> RecordError:
        """This error as a per-record value the engine can dead-letter."""
        return RecordError(kind="validation", message=self.message, field=self.field)
