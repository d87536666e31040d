"""JSON Schema validation at msgspec speed, with an exact validator behind it.

Validating a decoded value with a compiled validator (fastjsonschema) runs at about 130k
values/s; decoding straight into msgspec types that encode the same constraints runs at about
560k/s. So the common subset of JSON Schema (types, properties, required, additionalProperties,
enum/const, string lengths and patterns, numeric bounds, array items and lengths, local $refs)
is translated into msgspec types, and anything else makes the whole schema use the exact
validator.

The translation may be *stricter* than JSON Schema, never more lenient: msgspec refuses 1.0 for
an integer and 1.0 for `enum: [1]`, which JSON Schema accepts. A value the fast types refuse is
therefore re-checked with the exact validator before it is called invalid, so the verdict is
always the exact one. `format` is an annotation, as JSON Schema 2020-12 says by default, and the
exact validator is told so too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, cast

import msgspec

__all__ = ["ExactValidator", "compile_exact", "translate"]

type ExactValidator = Callable[[Any], None]

# Keywords that never constrain a value.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "format"}
    | {"deprecated", "readOnly", "writeOnly", "$defs", "definitions"}
)
_STRING = frozenset({"minLength", "maxLength", "pattern"})
_NUMBER = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
_ARRAY = frozenset({"items", "minItems", "maxItems"})
_OBJECT = frozenset({"properties", "required", "additionalProperties"})
_SCALARS: dict[str, Any] = {"boolean": bool, "null": None}


class _Untranslatable(Exception):
    """The schema uses a keyword or shape outside the translated subset."""


def translate(schema: Mapping[str, Any] | bool) -> Any | None:
    """A msgspec type accepting only values `schema` accepts, or None if outside the subset."""
    try:
        return _Translator(schema).type_of(schema)
    except _Untranslatable:
        return None


def compile_exact(schema: Mapping[str, Any] | bool) -> ExactValidator:
    """The exact validator of `schema` (draft-07 semantics; raises ValueError on an invalid
    value). Compiled on first need: fastjsonschema is imported only then."""
    import fastjsonschema  # noqa: PLC0415  deferred: only schemas outside the subset need it

    def refuse_remote(uri: str) -> Any:
        raise ValueError(f"remote $ref {uri} is not fetched; inline it in the schema file")

    try:
        validate = fastjsonschema.compile(
            cast(Any, schema),
            handlers={"http": refuse_remote, "https": refuse_remote},
            use_default=False,  # never insert defaults into the record being validated
            use_formats=False,  # format is an annotation (see the module docstring)
        )
    except re.error as error:
        raise ValueError(f"a pattern is not a valid regex: {error}") from None

    def check(value: Any) -> None:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaValueException as error:
            raise ValueError(error.message) from None

    return check


class _Translator:
    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self._root = root
        self._resolving: set[str] = set()
        self._structs = 0

    def type_of(self, schema: Mapping[str, Any] | bool) -> Any:
        if schema is True:
            return Any
        if not isinstance(schema, Mapping):
            raise _Untranslatable("false or non-object schema")
        if "$ref" in schema:
            return self._reference(schema)
        keywords = set(schema) - _ANNOTATIONS
        if "enum" in schema or "const" in schema:
            return self._literal(schema, keywords)
        if "type" not in schema:
            if keywords:
                raise _Untranslatable("constraints without a type")
            return Any
        declared = schema["type"]
        names = [declared] if isinstance(declared, str) else list(declared)
        nullable = "null" in names and len(names) == 2
        base = [entry for entry in names if entry != "null"] if nullable else names
        if len(base) != 1:
            raise _Untranslatable("a union of several types")
        translated = self._typed(base[0], schema, keywords - {"type"})
        return translated | None if nullable else translated

    def _reference(self, schema: Mapping[str, Any]) -> Any:
        if set(schema) - _ANNOTATIONS != {"$ref"}:
            raise _Untranslatable("$ref with sibling keywords")  # their meaning varies by draft
        ref = schema["$ref"]
        prefixes = ("#/$defs/", "#/definitions/")
        if not isinstance(ref, str) or not ref.startswith(prefixes) or ref in self._resolving:
            raise _Untranslatable("non-local or recursive $ref")
        section, _, name = ref[2:].partition("/")
        target = self._root.get(section, {}).get(name) if isinstance(self._root, Mapping) else None
        if target is None or "~" in name or "/" in name:
            raise _Untranslatable("unresolved $ref")
        self._resolving.add(ref)
        try:
            return self.type_of(target)
        finally:
            self._resolving.discard(ref)

    def _literal(self, schema: Mapping[str, Any], keywords: set[str]) -> Any:
        if keywords - {"enum", "const", "type"} or {"enum", "const"} <= keywords:
            raise _Untranslatable("enum or const with other constraints")
        if "enum" in schema and not isinstance(schema["enum"], list):
            raise _Untranslatable("enum is not a list")
        members = list(schema["enum"]) if "enum" in schema else [schema["const"]]
        allowed = {"string": str, "integer": int, "null": type(None)}
        declared = schema.get("type")
        if declared is not None:
            kinds = [declared] if isinstance(declared, str) else list(declared)
            if not set(kinds) <= set(allowed):
                raise _Untranslatable("enum of a type msgspec cannot hold as a literal")
            permitted = tuple(allowed[kind] for kind in kinds)
            members = [member for member in members if type(member) in permitted]
        values = [member for member in members if member is not None]
        if not members or any(type(value) not in (str, int) for value in values):
            raise _Untranslatable("enum members other than text and whole numbers")
        if not values:
            return None
        literal: Any = Literal.__getitem__(tuple(values))
        return literal | None if None in members else literal

    def _typed(self, kind: str, schema: Mapping[str, Any], keywords: set[str]) -> Any:
        if kind in _SCALARS:
            if keywords:
                raise _Untranslatable(f"constraints on {kind}")
            return _SCALARS[kind]
        if kind == "string":
            return self._constrained(str, schema, keywords, _STRING)
        if kind == "integer":
            return self._constrained(int, schema, keywords, _NUMBER | {"multipleOf"})
        if kind == "number":
            return self._constrained(float, schema, keywords, _NUMBER)
        if kind == "array":
            return self._array(schema, keywords)
        if kind == "object":
            return self._object(schema, keywords)
        raise _Untranslatable(f"unknown type {kind!r}")

    def _constrained(
        self, base: type, schema: Mapping[str, Any], keywords: set[str], supported: frozenset[str]
    ) -> Any:
        if keywords - supported:
            raise _Untranslatable(f"keywords {sorted(keywords - supported)}")
        meta: dict[str, Any] = {}
        for word, option in (
            ("minLength", "min_length"),
            ("maxLength", "max_length"),
            ("minimum", "ge"),
            ("maximum", "le"),
            ("exclusiveMinimum", "gt"),
            ("exclusiveMaximum", "lt"),
            ("multipleOf", "multiple_of"),
        ):
            if word in keywords:
                bound = schema[word]
                if isinstance(bound, bool) or not isinstance(bound, int | float):
                    raise _Untranslatable(f"{word} is not a number")  # e.g. draft-04 booleans
                whole = option in {"min_length", "max_length", "multiple_of"} or base is int
                if whole and not (
                    isinstance(bound, int) and (bound > 0 or option != "multiple_of")
                ):
                    raise _Untranslatable(f"{word} is not a whole number")
                if option in {"min_length", "max_length"} and bound < 0:
                    raise _Untranslatable(f"{word} is negative")
                meta[option] = bound
        if "pattern" in keywords:
            if not isinstance(schema["pattern"], str):
                raise _Untranslatable("pattern is not text")
            try:
                re.compile(schema["pattern"])
            except re.error:
                raise _Untranslatable("pattern is not a valid regex") from None
            meta["pattern"] = schema["pattern"]  # unanchored search, as in JSON Schema
        return Annotated[base, msgspec.Meta(**meta)] if meta else base

    def _array(self, schema: Mapping[str, Any], keywords: set[str]) -> Any:
        if keywords - _ARRAY:
            raise _Untranslatable(f"keywords {sorted(keywords - _ARRAY)}")
        items = schema.get("items", True)
        if isinstance(items, list):
            raise _Untranslatable("tuple-form items")
        item_type = self.type_of(items)
        meta: dict[str, Any] = {}
        for word, option in (("minItems", "min_length"), ("maxItems", "max_length")):
            if word in keywords:
                bound = schema[word]
                if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
                    raise _Untranslatable(f"{word} is not a whole number")
                meta[option] = bound
        listed = list[item_type]  # type: ignore[valid-type]
        return Annotated[listed, msgspec.Meta(**meta)] if meta else listed

    def _object(self, schema: Mapping[str, Any], keywords: set[str]) -> Any:
        if keywords - _OBJECT:
            raise _Untranslatable(f"keywords {sorted(keywords - _OBJECT)}")
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        extra = schema.get("additionalProperties", True)
        if not isinstance(properties, Mapping) or not isinstance(required, list):
            raise _Untranslatable("malformed properties or required")
        if not properties and not required and extra is not False:
            return dict[str, self.type_of(extra)]  # type: ignore[misc]
        if extra not in (True, False):
            raise _Untranslatable("additionalProperties schema next to properties")
        fields: list[tuple[str, Any, Any] | tuple[str, Any]] = []
        rename: dict[str, str] = {}
        for position, field_name in enumerate(dict.fromkeys([*properties, *required])):
            if not isinstance(field_name, str):
                raise _Untranslatable("non-text property name")
            # Attribute names are positional so any JSON name (a keyword, "a-b", "_x") works.
            attribute = f"f{position}"
            rename[attribute] = field_name
            field_type = self.type_of(properties.get(field_name, True))
            if field_name in required:
                fields.append((attribute, field_type))
            else:
                fields.append((attribute, field_type | msgspec.UnsetType, msgspec.UNSET))
        self._structs += 1
        return msgspec.defstruct(
            f"Object{self._structs}",
            fields,
            kw_only=True,
            rename=rename,
            forbid_unknown_fields=extra is False,
            gc=False,  # decoded only to validate, then dropped: no need to track them
        )
