"""A structured postal address, the canonical form every address block maps to.

ERPs such as SAP keep street, house number, postal code and city apart; CRMs such as
Salesforce keep a multi-line street block. The canonical form is structured so that
nothing is lost going either way (see ``isthmus.mapping.transforms.address``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class PostalAddress(BaseModel):
    """A postal address with its parts kept apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    street: str | None = None
    house_number: str | None = None
    # Lines that are not the street line: "Suite 400", "c/o Finance", "Building B".
    extra_lines: tuple[str, ...] = ()
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    # ISO 3166-1 alpha-2 where known; kept as given otherwise.
    country: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stripped = value.strip()
        return stripped.upper() if len(stripped) == 2 else stripped or None

    def is_empty(self) -> bool:
        return not any(
            (
                self.street,
                self.house_number,
                self.extra_lines,
                self.postal_code,
                self.city,
                self.region,
                self.country,
            )
        )
