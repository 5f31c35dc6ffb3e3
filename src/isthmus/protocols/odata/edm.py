"""Entity data model (EDM) description and its CSDL ``$metadata`` document.

A sandbox declares its entity types once; the same description drives ``$metadata``, the
key lookups in URLs and which navigation properties ``$expand`` may follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

EDM_TYPES = frozenset(
    {
        "Edm.String",
        "Edm.Guid",
        "Edm.Boolean",
        "Edm.Int32",
        "Edm.Int64",
        "Edm.Decimal",
        "Edm.Double",
        "Edm.Date",
        "Edm.DateTimeOffset",
    }
)


@dataclass(frozen=True)
class Property:
    """One structural property: a name and its EDM type."""

    name: str
    edm_type: str = "Edm.String"
    nullable: bool = True
    max_length: int | None = None  # for strings: the longest value the service stores

    def __post_init__(self) -> None:
        if self.edm_type not in EDM_TYPES:
            raise ValueError(f"property {self.name!r}: unknown EDM type {self.edm_type!r}")


@dataclass(frozen=True)
class NavigationProperty:
    """A link from one entity type to another (for example an order's lines)."""

    name: str
    target_type: str
    collection: bool = True


@dataclass(frozen=True)
class EntityType:
    """An entity type: its properties, its key and its navigation properties."""

    name: str
    properties: tuple[Property, ...]
    key: str = "id"
    navigation: tuple[NavigationProperty, ...] = ()
    bound_actions: tuple[str, ...] = ()

    def property_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.properties)

    def property_type(self, name: str) -> str | None:
        for prop in self.properties:
            if prop.name == name:
                return prop.edm_type
        return None

    def navigation_named(self, name: str) -> NavigationProperty | None:
        for nav in self.navigation:
            if nav.name == name:
                return nav
        return None


@dataclass(frozen=True)
class EntitySet:
    """A named collection of one entity type, as it appears in URLs."""

    name: str
    entity_type: str


@dataclass
class ServiceModel:
    """All entity types and sets of one OData service, in one schema namespace."""

    namespace: str
    types: dict[str, EntityType] = field(default_factory=dict)
    sets: dict[str, EntitySet] = field(default_factory=dict)

    def add(self, entity_type: EntityType, set_name: str | None = None) -> None:
        """Register an entity type, and an entity set for it when ``set_name`` is given."""
        self.types[entity_type.name] = entity_type
        if set_name is not None:
            self.sets[set_name] = EntitySet(set_name, entity_type.name)

    def type_of_set(self, set_name: str) -> EntityType:
        """The entity type behind an entity set; KeyError when the set is unknown."""
        return self.types[self.sets[set_name].entity_type]

    def metadata_xml(self) -> str:
        """The CSDL XML document served at ``$metadata``."""
        ns = self.namespace
        lines = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
            "<edmx:DataServices>",
            f'<Schema Namespace={quoteattr(ns)} xmlns="http://docs.oasis-open.org/odata/ns/edm">',
        ]
        for etype in self.types.values():
            lines.append(f"<EntityType Name={quoteattr(etype.name)}>")
            lines.append(f"<Key><PropertyRef Name={quoteattr(etype.key)}/></Key>")
            for prop in etype.properties:
                nullable = "true" if prop.nullable and prop.name != etype.key else "false"
                length = f' MaxLength="{prop.max_length}"' if prop.max_length else ""
                lines.append(
                    f"<Property Name={quoteattr(prop.name)} Type={quoteattr(prop.edm_type)}"
                    f' Nullable="{nullable}"{length}/>'
                )
            for nav in etype.navigation:
                target = f"{ns}.{nav.target_type}"
                type_ref = f"Collection({target})" if nav.collection else target
                lines.append(
                    f"<NavigationProperty Name={quoteattr(nav.name)} Type={quoteattr(type_ref)}"
                    ' ContainsTarget="true"/>'
                )
            lines.append("</EntityType>")
        for etype in self.types.values():
            for action in etype.bound_actions:
                lines.append(f'<Action Name={quoteattr(action)} IsBound="true">')
                lines.append(f'<Parameter Name="bindingParameter" Type="{ns}.{etype.name}"/>')
                lines.append("</Action>")
        lines.append('<EntityContainer Name="default">')
        for eset in self.sets.values():
            lines.append(
                f"<EntitySet Name={quoteattr(eset.name)}"
                f" EntityType={quoteattr(f'{ns}.{eset.entity_type}')}/>"
            )
        lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
        return "\n".join(lines)
