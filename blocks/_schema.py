"""The JSON schema of a block class, built once per state of what it depends on.

Prefect's ``Block.model_json_schema`` builds the whole class's schema on every call, and
saving a block calls it once per field (``Block._field_has_secrets``, from
``_to_block_document``): 85 schema builds and about 0.5 s of CPU for one ``BhxhUnit``
saved (cProfile, Prefect 3.9.1). A firm's forty companies saved, every test world's
blocks, a setup saving its unit's certificate: each paid it.

A schema changes only with what its fields' ``json_schema_extra`` read: ``BhxhUnit``'s
provider and route drop-downs list the registered providers and carriers, which a plugin
may add while the process runs. So a class names those inputs
(:meth:`SchemaOnce.schema_inputs`), the schema is built once per class, arguments and
inputs, and a copy is handed out (Prefect's callers edit the dict they get,
``_calculate_schema_checksum`` for one).
"""

from __future__ import annotations

import copy
from collections.abc import Hashable
from typing import Any, ClassVar, Literal

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

__all__ = ["SchemaOnce"]


class SchemaOnce:
    """Mixed in before ``Block`` (``class BhxhUnit(SchemaOnce, Block)``): its
    ``model_json_schema`` answers from a per-class cache."""

    _schemas: ClassVar[dict[tuple[Any, ...], dict[str, Any]]] = {}

    @classmethod
    def schema_inputs(cls) -> tuple[Hashable, ...]:
        """What the class's schema is made of besides its fields, as a hashable value: a
        class whose ``json_schema_extra`` reads a registry returns the registry's names.
        Nothing by default."""
        return ()

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = True,
        ref_template: str = "#/definitions/{model}",
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        """Prefect's schema (its defaults: by alias, ``#/definitions/``), built once."""
        parent = super().model_json_schema  # type: ignore[misc]
        if union_format != "any_of":  # Prefect's override takes no union_format: as before
            built: dict[str, Any] = parent(
                by_alias, ref_template, schema_generator, mode, union_format=union_format
            )
            return built
        key = (cls, by_alias, ref_template, schema_generator, mode, cls.schema_inputs())
        schema = SchemaOnce._schemas.get(key)
        if schema is None:
            schema = SchemaOnce._schemas[key] = parent(
                by_alias, ref_template, schema_generator, mode
            )
        return copy.deepcopy(schema)
