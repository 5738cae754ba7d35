"""Dialect codec: canonical feed frames to a force's own export files and back again.

Every force exports its five feeds in its records system's own *dialect*: its column names,
code lists, date formats, file format and layout (DESIGN.md, "Inputs"). The synthetic world
writes canonical frames out in each force's dialect with :func:`write_extract`; extraction
reads them back into the canonical contract (:mod:`forceprofiles.contract`) with
:func:`read_extract`. The two are one codec driven by the YAML files in
``profiles/dialects/``, so a new dialect, or a force changing its export, is a config change
that a force analyst can read and review, not a code change.

Decisions (also in docs/data-contract.md):

- Canonical dtypes on read: strings are ``object`` with ``None`` for missing; timestamps are
  naive ``datetime64[us]``; dates are ``datetime64[us]`` normalised to midnight (the same dtype
  the synthetic world writes, and it round-trips through Parquet and DuckDB); booleans are
  ``boolean``; integers ``Int64``; floats ``float64``. An empty string is read as missing.
- Every decoded row carries ``_source_file`` (file name), ``_source_row`` (1-based data row;
  for JSON lines the line number) and ``_decode_errors`` (``None`` or "column: value is not a
  valid ..." messages). A value that cannot be decoded becomes null and the row is kept, so
  validation can quarantine it with its reason. Problems with a whole file raise
  :class:`ExtractFileError`.
- Code lists are strict on read (an unknown code is a decode error) and lenient on write (a
  canonical value outside the code list is written verbatim, so dirty data reaches the file
  and the reader flags it, as it would with a real force).
- Writing is byte-deterministic: rows are sorted by the contract's record key, columns are
  in contract order, Parquet carries no timestamps.
- Children that a nested or wide layout cannot hold (no parent row in the extract, more
  persons than slots, an unknown role) go to the dialect's overflow link file: nothing is lost.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from forceprofiles import contract

PROFILES_HOME_ENV = "FORCEPROFILES_HOME"
PROVENANCE_COLUMNS: tuple[str, ...] = ("_source_file", "_source_row", "_decode_errors")

WireType = Literal["string", "int", "float", "bool", "timestamp", "date", "json"]
CODE_RULES = ("map", "home_office", "hocr_padded", "local_lookup", "list", "json_array")
_MAX_SHOWN_VALUE = 60
_CSV_FIELD_LIMIT = 64 * 1024 * 1024


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ExtractFileError(Exception):
    """A whole extract file (or database table) cannot be read as the dialect says it should.

    Raised for problems no single row can carry: a missing or unreadable file, the wrong text
    encoding, a header without the required columns, a truncated JSON line. The message is for
    the data engineer on call: it names the file and says what was expected.
    """

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class DialectConfigError(ValueError):
    """A dialect YAML file is malformed; the message names the file and the setting."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileFormat:
    """How one file is serialised (CSV, JSON lines or Parquet) and encoded."""

    type: Literal["csv", "jsonl", "parquet"]
    encoding: str = "utf-8"
    delimiter: str = ","
    quoting: Literal["minimal", "all"] = "minimal"
    line_terminator: str = "\n"
    unencodable: Literal["error", "replace"] = "error"


@dataclass(frozen=True)
class TemporalFormat:
    """How a dialect writes timestamps or dates: a strftime pattern, or Unix epoch seconds."""

    pattern: str | None
    epoch_seconds: bool
    label: str


@dataclass(frozen=True)
class CodeRule:
    """How a dialect writes one canonical string column (see ``CODE_RULES``)."""

    rule: str
    values: dict[str, Any] = field(default_factory=dict)
    fallback: str | None = None
    separator: str | None = None


@dataclass(frozen=True)
class Embedding:
    """Child rows carried on their parent's row: nested JSON arrays or wide numbered columns."""

    style: Literal["nested", "wide"]
    entity: str
    inherit: tuple[str, ...]
    group_by: str | None
    groups: dict[str, str]
    array: str | None
    slots: int
    column_pattern: str
    overflow: str


@dataclass(frozen=True)
class FileSpec:
    """One kind of file in a feed's extract (and one table in PostgreSQL delivery)."""

    kind: str
    file_name: str
    entity: str
    format: FileFormat
    embedding: Embedding | None = None


@dataclass(frozen=True)
class FeedLayout:
    """A feed in one dialect: each entity's column names and the files that carry them."""

    feed: str
    columns: dict[str, dict[str, str]]
    files: tuple[FileSpec, ...]

    def spec(self, kind: str) -> FileSpec:
        """The file spec of one kind."""
        return next(spec for spec in self.files if spec.kind == kind)

    def overflow_kinds(self) -> set[str]:
        """Kinds that only hold children an embedding could not carry."""
        return {spec.embedding.overflow for spec in self.files if spec.embedding is not None}


@dataclass(frozen=True)
class Dialect:
    """A records system's export dialect, loaded from ``profiles/dialects/<name>.yml``."""

    name: str
    description: str
    timestamp: TemporalFormat
    date: TemporalFormat
    true_value: Any
    false_value: Any
    codes: dict[str, CodeRule]
    feeds: dict[str, FeedLayout]
    source: Path


def find_profiles_dir() -> Path:
    """The ``profiles/`` directory: ``$FORCEPROFILES_HOME`` if set, else found above this file.

    ``FORCEPROFILES_HOME`` may name the project root (the directory holding ``profiles/``) or
    the profiles directory itself, so an installed package can still find its configuration.
    """
    home = os.environ.get(PROFILES_HOME_ENV)
    if home:
        for candidate in (Path(home) / "profiles", Path(home)):
            if (candidate / "dialects").is_dir():
                return candidate
        raise FileNotFoundError(f"{PROFILES_HOME_ENV}={home} holds neither profiles/dialects nor dialects/")
    for parent in Path(__file__).resolve().parents:
        if (parent / "profiles" / "dialects").is_dir():
            return parent / "profiles"
    raise FileNotFoundError(f"no profiles/dialects directory above {__file__}; set {PROFILES_HOME_ENV}")


def available_dialects(profiles_dir: Path | None = None) -> list[str]:
    """Names of the dialects configured in ``profiles/dialects``."""
    directory = (profiles_dir or find_profiles_dir()) / "dialects"
    return sorted(path.stem for path in directory.glob("*.yml"))


def load_dialect(name: str, profiles_dir: Path | None = None) -> Dialect:
    """Load and validate ``profiles/dialects/<name>.yml``.

    Validation happens here, once, so that a typo in a dialect file fails loudly when the
    pipeline starts rather than as wrong data months later.
    """
    profiles = profiles_dir or find_profiles_dir()
    path = profiles / "dialects" / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(available_dialects(profiles)) or "none"
        raise DialectConfigError(f"no dialect named {name!r}: {path} does not exist (configured: {known})")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return _parse_dialect(name, raw, path)


def _parse_dialect(name: str, raw: Any, path: Path) -> Dialect:
    where = _Where(path.name)
    root = where.mapping(raw, "")
    if root.get("name", name) != name:
        raise where.error("name", f"{root.get('name')!r} does not match the file name {name!r}")
    default_format = _parse_format(where.mapping(root.get("file_format"), "file_format"), where.at("file_format"))
    booleans = where.mapping(root.get("booleans"), "booleans")
    dialect = Dialect(
        name=name,
        description=str(root.get("description", "")).strip(),
        timestamp=_parse_temporal(root.get("timestamp"), where.at("timestamp")),
        date=_parse_temporal(root.get("date"), where.at("date")),
        true_value=where.required(booleans, "true_value", "booleans"),
        false_value=where.required(booleans, "false_value", "booleans"),
        codes={column: _parse_code_rule(spec, where.at(f"codes.{column}"))
               for column, spec in where.mapping(root.get("codes", {}), "codes").items()},
        feeds={feed: _parse_feed(feed, where.mapping(where.required(root.get("feeds"), feed, "feeds"), f"feeds.{feed}"),
                                 default_format, where.at(f"feeds.{feed}"))
               for feed in contract.FEEDS},
        source=path,
    )
    _validate_dialect(dialect, where)
    return dialect


class _Where:
    """Builds config error messages that name the file and the setting at fault."""

    def __init__(self, file: str, prefix: str = "") -> None:
        self.file = file
        self.prefix = prefix

    def at(self, key: str) -> _Where:
        return _Where(self.file, f"{self.prefix}.{key}" if self.prefix else key)

    def error(self, key: str, message: str) -> DialectConfigError:
        location = ".".join(part for part in (self.prefix, key) if part)
        return DialectConfigError(f"{self.file}: {location or 'top level'}: {message}")

    def mapping(self, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a mapping, got {type(value).__name__}")
        return value

    def required(self, mapping: dict, key: str, parent: str) -> Any:
        if key not in mapping:
            raise self.error(parent, f"missing required setting {key!r}")
        return mapping[key]


def _parse_format(raw: dict, where: _Where) -> FileFormat:
    fmt = FileFormat(
        type=raw.get("type"),
        encoding=raw.get("encoding", "utf-8"),
        delimiter=raw.get("delimiter", ","),
        quoting=raw.get("quoting", "minimal"),
        line_terminator=raw.get("line_terminator", "\n"),
        unencodable=raw.get("unencodable", "error"),
    )
    if fmt.type not in ("csv", "jsonl", "parquet"):
        raise where.error("type", f"{fmt.type!r} is not one of csv, jsonl, parquet")
    if fmt.quoting not in ("minimal", "all"):
        raise where.error("quoting", f"{fmt.quoting!r} is not one of minimal, all")
    if fmt.unencodable not in ("error", "replace"):
        raise where.error("unencodable", f"{fmt.unencodable!r} is not one of error, replace")
    if len(fmt.delimiter) != 1:
        raise where.error("delimiter", "must be a single character")
    try:
        "".encode(fmt.encoding)
    except LookupError:
        raise where.error("encoding", f"{fmt.encoding!r} is not a known text encoding") from None
    return fmt


def _parse_temporal(raw: Any, where: _Where) -> TemporalFormat:
    spec = where.mapping(raw, "")
    label = str(where.required(spec, "label", ""))
    if spec.get("epoch") == "seconds":
        return TemporalFormat(pattern=None, epoch_seconds=True, label=label)
    pattern = spec.get("pattern")
    if not isinstance(pattern, str) or "%" not in pattern:
        raise where.error("pattern", "expected a strftime pattern such as '%d/%m/%Y' (or epoch: seconds)")
    return TemporalFormat(pattern=pattern, epoch_seconds=False, label=label)


def _parse_code_rule(raw: Any, where: _Where) -> CodeRule:
    spec = where.mapping(raw, "")
    rule = spec.get("rule")
    if rule not in CODE_RULES:
        raise where.error("rule", f"{rule!r} is not one of {', '.join(CODE_RULES)}")
    values = spec.get("values", spec.get("table", {})) or {}
    values = {str(key): value for key, value in where.mapping(values, "values").items()}
    code_rule = CodeRule(rule=rule, values=values, fallback=spec.get("fallback"), separator=spec.get("separator"))
    _check_code_rule(code_rule, where)
    return code_rule


def _check_code_rule(rule: CodeRule, where: _Where) -> None:
    """Code translations must be reversible, or a round trip would silently change data."""
    encoded = [_token(value) for value in rule.values.values()]
    duplicates = sorted({token for token in encoded if encoded.count(token) > 1})
    if duplicates:
        raise where.error("values", f"not reversible: {', '.join(duplicates)} stand for more than one code")
    if rule.rule == "map" and not rule.values:
        raise where.error("values", "a map rule needs values")
    if rule.rule == "local_lookup":
        if not rule.fallback or rule.fallback.count("{code}") != 1:
            raise where.error("fallback", "a local_lookup needs a fallback template with one {code}, e.g. 'LOC-{code}'")
        prefix, suffix = rule.fallback.split("{code}")
        clashes = [token for token in encoded if token.startswith(prefix) and token.endswith(suffix)]
        if clashes:
            raise where.error("table", f"local codes {', '.join(clashes)} look like the fallback {rule.fallback!r}")
    if rule.rule == "list" and (not rule.separator or rule.separator == ";"):
        raise where.error("separator", "a list rule needs a separator other than ';' (the canonical one)")


def _parse_feed(feed: str, raw: dict, default_format: FileFormat, where: _Where) -> FeedLayout:
    columns = where.mapping(where.required(raw, "columns", ""), "columns")
    files = where.required(raw, "files", "")
    if not isinstance(files, list) or not files:
        raise where.error("files", "expected a non-empty list of files")
    return FeedLayout(
        feed=feed,
        columns={entity: {str(k): str(v) for k, v in where.mapping(mapping, f"columns.{entity}").items()}
                 for entity, mapping in columns.items()},
        files=tuple(_parse_file_spec(spec, default_format, where.at(f"files[{i}]")) for i, spec in enumerate(files)),
    )


def _parse_file_spec(raw: Any, default_format: FileFormat, where: _Where) -> FileSpec:
    spec = where.mapping(raw, "")
    fmt = default_format
    if "format" in spec:
        merged = {**default_format.__dict__, **where.mapping(spec["format"], "format")}
        fmt = _parse_format(merged, where.at("format"))
    embedding = None
    if "nested" in spec:
        embedding = _parse_embedding("nested", where.mapping(spec["nested"], "nested"), where.at("nested"))
    elif "wide" in spec:
        embedding = _parse_embedding("wide", where.mapping(spec["wide"], "wide"), where.at("wide"))
    return FileSpec(
        kind=str(where.required(spec, "kind", "")),
        file_name=str(where.required(spec, "file", "")),
        entity=str(where.required(spec, "entity", "")),
        format=fmt,
        embedding=embedding,
    )


def _parse_embedding(style: Literal["nested", "wide"], raw: dict, where: _Where) -> Embedding:
    groups = raw.get("arrays" if style == "nested" else "prefixes", {}) or {}
    slots = raw.get("slots", 0)
    if style == "wide" and (not isinstance(slots, int) or slots < 1):
        raise where.error("slots", "must be a positive integer")
    embedding = Embedding(
        style=style,
        entity=str(where.required(raw, "entity", "")),
        inherit=tuple(where.required(raw, "inherit", "")),
        group_by=raw.get("group_by"),
        groups={str(k): str(v) for k, v in where.mapping(groups, "arrays/prefixes").items()},
        array=raw.get("array"),
        slots=slots,
        column_pattern=str(raw.get("column", "")),
        overflow=str(where.required(raw, "overflow", "")),
    )
    if embedding.group_by and not embedding.groups:
        raise where.error("group_by", "grouped children need arrays (nested) or prefixes (wide)")
    if style == "nested" and not embedding.group_by and not embedding.array:
        raise where.error("array", "nested children without group_by need an array key")
    if style == "wide" and not all(part in embedding.column_pattern for part in ("{prefix}", "{slot}", "{column}")):
        raise where.error("column", "the wide column pattern needs {prefix}, {slot} and {column}")
    return embedding


def _validate_dialect(dialect: Dialect, where: _Where) -> None:
    """Cross-checks against the contract: every canonical column mapped, every entity carried."""
    string_columns = {f.name for feed in contract.FEEDS for entity in contract.entities(feed)
                      for f in contract.fields(feed, entity) if f.dtype == "string"}
    for column in dialect.codes:
        if column not in string_columns:
            raise where.error(f"codes.{column}", "codes apply to canonical string columns only")
    for feed, layout in dialect.feeds.items():
        _validate_feed(layout, where.at(f"feeds.{feed}"))


def _validate_feed(layout: FeedLayout, where: _Where) -> None:
    feed = layout.feed
    for entity in contract.entities(feed):
        mapping = layout.columns.get(entity)
        if mapping is None:
            raise where.error("columns", f"no columns for entity {entity!r}")
        missing = [name for name in contract.column_names(feed, entity) if name not in mapping]
        unknown = [name for name in mapping if name not in contract.column_names(feed, entity)]
        if missing or unknown:
            raise where.error(f"columns.{entity}", f"unmapped canonical columns {missing}, unknown {unknown}")
        dialect_names = list(mapping.values())
        if len(set(dialect_names)) != len(dialect_names):
            raise where.error(f"columns.{entity}", "two canonical columns share one dialect column name")
    kinds = [spec.kind for spec in layout.files]
    names = [spec.file_name for spec in layout.files]
    if len(set(kinds)) != len(kinds) or len(set(names)) != len(names):
        raise where.error("files", "file kinds and file names must be unique within a feed")
    overflow = layout.overflow_kinds()
    carriers = [spec.entity for spec in layout.files if spec.kind not in overflow]
    carriers += [spec.embedding.entity for spec in layout.files if spec.embedding]
    for entity in contract.entities(feed):
        if carriers.count(entity) != 1:
            raise where.error("files", f"entity {entity!r} must be carried by exactly one file or embedding "
                                       f"(plus its overflow file), found {carriers.count(entity)}")
    for i, spec in enumerate(layout.files):
        if spec.entity not in layout.columns:
            raise where.error(f"files[{i}].entity", f"{spec.entity!r} is not an entity of {feed}")
        if spec.embedding:
            _validate_embedding(layout, spec, where.at(f"files[{i}]"))


def _validate_embedding(layout: FeedLayout, spec: FileSpec, where: _Where) -> None:
    embedding = spec.embedding
    assert embedding is not None
    key = where.at(embedding.style)
    child_columns = contract.column_names(layout.feed, embedding.entity)
    if embedding.entity not in layout.columns or embedding.entity == spec.entity:
        raise key.error("entity", f"{embedding.entity!r} is not a child entity of {layout.feed}")
    parent_key = contract.RECORD_KEYS[(layout.feed, spec.entity)]
    if not set(parent_key) <= set(embedding.inherit):
        raise key.error("inherit", f"must include the parent's record key {list(parent_key)}")
    parent_fields = {f.name: f for f in contract.fields(layout.feed, spec.entity)}
    for name in embedding.inherit:
        if name not in child_columns or name not in parent_fields or parent_fields[name].dtype != "string":
            raise key.error("inherit", f"{name!r} must be a string column of both parent and child")
    if embedding.group_by and embedding.group_by not in child_columns:
        raise key.error("group_by", f"{embedding.group_by!r} is not a column of {embedding.entity}")
    if spec.format.type != "jsonl" and embedding.style == "nested":
        raise key.error("", "nested arrays need a jsonl file")
    if embedding.overflow not in {s.kind for s in layout.files if s.entity == embedding.entity}:
        raise key.error("overflow", f"{embedding.overflow!r} is not a file kind carrying {embedding.entity}")
    if embedding.style == "wide":
        parent_names = set(layout.columns[spec.entity].values())
        clashes = parent_names & set(wide_columns(layout, embedding))
        if clashes:
            raise key.error("column", f"wide columns clash with parent columns: {sorted(clashes)}")


# --------------------------------------------------------------------------------------------
# Value codecs: one canonical column <-> its wire values in one dialect
# --------------------------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    """Missing in any of the ways files and frames say it: None, NaN, NA, NaT, ''."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if type(value) is str:
        return value == ""
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value == ""


def _token(value: Any) -> str:
    """A raw value as text, so that '1' from CSV and 1 from JSON or Parquet compare equal."""
    if type(value) is str:
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A raw value quoted for an error message, shortened so messages stay readable."""
    text = _token(value)
    if len(text) > _MAX_SHOWN_VALUE:
        text = text[: _MAX_SHOWN_VALUE - 3] + "..."
    return repr(text)


def _objects(values: pd.Series) -> list[Any]:
    """Canonical values as plain Python objects, with None for every kind of missing."""
    return [None if _is_blank(v) else v for v in values.astype(object).tolist()]


class _BadValue(Exception):
    """One value that cannot be decoded; the message completes "column: value ..."."""


class _Codec:
    """Encodes one canonical column to wire values and decodes it back.

    ``encode`` gets the canonical Series and returns wire values (plain Python objects, None for
    missing). ``decode`` gets raw values and returns the canonical Series plus one error
    message (or None) per row. The base class decodes value by value through ``parse``.
    """

    wire_type: WireType = "string"
    dtype: str = "object"

    def encode(self, values: pd.Series) -> list[Any]:
        return [None if v is None else self.render(v) for v in _objects(values)]

    def render(self, value: Any) -> Any:
        return str(value)

    def parse(self, raw: Any) -> Any:
        return _token(raw)

    def decode(self, raw: pd.Series, column: str) -> tuple[pd.Series, list[str | None]]:
        values: list[Any] = []
        errors: list[str | None] = []
        for item in raw.tolist():
            if _is_blank(item):
                values.append(None)
                errors.append(None)
                continue
            try:
                values.append(self.parse(item))
                errors.append(None)
            except _BadValue as problem:
                values.append(None)
                errors.append(f"{column}: {_show(item)} {problem}")
        return _typed(values, self.dtype), errors


def _typed(values: list[Any], dtype: str) -> pd.Series:
    if dtype == "object":
        return pd.Series(values, dtype=object)
    return pd.Series(pd.array(values, dtype=dtype))


class _TextCodec(_Codec):
    """Free text and codes the dialect writes as the contract does."""


class _CodeListCodec(_Codec):
    """A code list renamed by the dialect (sex 'M' -> 'Male', risk 'high' -> 3)."""

    def __init__(self, dialect: str, column: str, mapping: dict[str, Any]) -> None:
        self.mapping = mapping
        self.reverse = {_token(v): k for k, v in mapping.items()}
        self.description = f"in the {dialect} {column} code list ({', '.join(self.reverse)})"
        all_ints = all(isinstance(v, int) and not isinstance(v, bool) for v in mapping.values())
        self.wire_type = "int" if all_ints else "string"

    def render(self, value: Any) -> Any:
        return self.mapping.get(str(value), str(value))

    def parse(self, raw: Any) -> Any:
        try:
            return self.reverse[_token(raw)]
        except KeyError:
            raise _BadValue(f"is not {self.description}") from None


_HO_CODE = re.compile(r"^([1-9][0-9]{0,2})([A-Z]?)$")
_HOCR_PADDED = re.compile(r"^([0-9]{3})/([0-9]{2})$")


class _HocrPaddedCodec(_Codec):
    """Home Office code in a padded form: '8N' -> '008/14' (class, '/', letter A=01..Z=26).

    Codes not of the form <1-3 digits><optional capital letter> ('37.1', 'CIFAS') are written
    unchanged, and a value that is not in the padded form is read unchanged, so every code
    round-trips.
    """

    def render(self, value: Any) -> Any:
        match = _HO_CODE.match(str(value))
        if not match:
            return str(value)
        number, letter = match.groups()
        subclass = ord(letter) - ord("A") + 1 if letter else 0
        return f"{int(number):03d}/{subclass:02d}"

    def parse(self, raw: Any) -> Any:
        text = _token(raw)
        match = _HOCR_PADDED.match(text)
        if not match:
            return text
        number, subclass = int(match.group(1)), int(match.group(2))
        if number == 0 or subclass > 26:
            raise _BadValue("is not a valid padded HOCR code (NNN/SS, SS 00-26)")
        return f"{number}{chr(ord('A') + subclass - 1) if subclass else ''}"


class _LocalOffenceCodec(_Codec):
    """Home Office code as a local offence code: a lookup table, else a fallback template."""

    def __init__(self, dialect: str, table: dict[str, Any], fallback: str) -> None:
        self.table = {k: str(v) for k, v in table.items()}
        self.reverse = {v: k for k, v in self.table.items()}
        self.fallback = fallback
        self.prefix, self.suffix = fallback.split("{code}")
        self.dialect = dialect

    def render(self, value: Any) -> Any:
        code = str(value)
        return self.table.get(code, self.fallback.format(code=code))

    def parse(self, raw: Any) -> Any:
        text = _token(raw)
        if text in self.reverse:
            return self.reverse[text]
        inner = len(text) - len(self.prefix) - len(self.suffix)
        if inner > 0 and text.startswith(self.prefix) and text.endswith(self.suffix):
            return text[len(self.prefix): len(text) - len(self.suffix)]
        raise _BadValue(f"is not a {self.dialect} local offence code (not in the table, not {self.fallback})")


class _ListCodec(_Codec):
    """A ';'-separated canonical list written with another separator ('cse;cce' -> 'cse|cce')."""

    def __init__(self, separator: str) -> None:
        self.separator = separator

    def render(self, value: Any) -> Any:
        return self.separator.join(str(value).split(";"))

    def parse(self, raw: Any) -> Any:
        return ";".join(_token(raw).split(self.separator))


class _JsonArrayCodec(_Codec):
    """A ';'-separated canonical list written as a JSON array ('cse;cce' -> ["cse","cce"])."""

    wire_type = "json"

    def render(self, value: Any) -> Any:
        return str(value).split(";")

    def parse(self, raw: Any) -> Any:
        if isinstance(raw, str):
            return raw
        if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
            return ";".join(raw) if raw else None
        raise _BadValue("is not a JSON array of strings")


class _BoolCodec(_Codec):
    """A flag written as the dialect's true/false tokens (Y/N, true/false, 1/0)."""

    dtype = "boolean"

    def __init__(self, dialect: str, true_value: Any, false_value: Any) -> None:
        self.true_value = true_value
        self.false_value = false_value
        self.reverse = {_token(true_value): True, _token(false_value): False}
        self.description = f"a {dialect} flag ({_token(true_value)}/{_token(false_value)})"
        if all(isinstance(v, bool) for v in (true_value, false_value)):
            self.wire_type = "bool"
        elif all(isinstance(v, int) for v in (true_value, false_value)):
            self.wire_type = "int"

    def render(self, value: Any) -> Any:
        return self.true_value if bool(value) else self.false_value

    def parse(self, raw: Any) -> Any:
        try:
            return self.reverse[_token(raw)]
        except KeyError:
            raise _BadValue(f"is not {self.description}") from None


class _IntCodec(_Codec):
    wire_type = "int"
    dtype = "Int64"

    def render(self, value: Any) -> Any:
        return int(value)

    def parse(self, raw: Any) -> Any:
        text = _token(raw).strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise _BadValue("is not a whole number")
        return int(text)


class _FloatCodec(_Codec):
    wire_type = "float"
    dtype = "float64"

    def render(self, value: Any) -> Any:
        return float(value)

    def parse(self, raw: Any) -> Any:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return float(raw)
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise _BadValue("is not a number") from None
        if not math.isfinite(number):
            raise _BadValue("is not a finite number")
        return number


class _PatternTemporalCodec(_Codec):
    """Timestamps or dates as formatted text; parsing is vectorised because volumes are large."""

    dtype = "datetime64[us]"

    def __init__(self, fmt: TemporalFormat, is_date: bool) -> None:
        self.pattern = fmt.pattern
        self.label = fmt.label
        self.is_date = is_date

    def encode(self, values: pd.Series) -> list[Any]:
        if pd.api.types.is_datetime64_dtype(values.dtype):
            stamps = values  # canonical frames are typed already: no round trip through objects
        else:
            stamps = pd.to_datetime(pd.Series(_objects(values), dtype=object))
        rendered = stamps.dt.strftime(self.pattern)
        return [None if _is_blank(v) else v for v in rendered.astype(object).tolist()]

    def decode(self, raw: pd.Series, column: str) -> tuple[pd.Series, list[str | None]]:
        texts = [None if _is_blank(v) else _token(v) for v in raw.tolist()]
        parsed = pd.to_datetime(pd.Series(texts, dtype=object), format=self.pattern, errors="coerce")
        parsed = parsed.astype("datetime64[us]")
        if self.is_date:
            parsed = parsed.dt.normalize()
        errors = [None if text is None or not pd.isna(stamp)
                  else f"{column}: {_show(text)} is not a valid {self.label} date"
                  for text, stamp in zip(texts, parsed)]
        return parsed.reset_index(drop=True), errors


class _EpochCodec(_Codec):
    """Timestamps as Unix epoch seconds of the local wall-clock time (lossless across BST)."""

    wire_type = "int"
    dtype = "datetime64[us]"

    def __init__(self, fmt: TemporalFormat) -> None:
        self.label = fmt.label

    def encode(self, values: pd.Series) -> list[Any]:
        stamps = pd.to_datetime(pd.Series(_objects(values), dtype=object)).astype("datetime64[us]")
        seconds = stamps.to_numpy().astype("datetime64[s]").astype(np.int64)
        return [None if missing else int(s) for s, missing in zip(seconds, stamps.isna())]

    def decode(self, raw: pd.Series, column: str) -> tuple[pd.Series, list[str | None]]:
        seconds = np.zeros(len(raw), dtype=np.int64)
        valid = np.zeros(len(raw), dtype=bool)
        errors: list[str | None] = []
        for i, item in enumerate(raw.tolist()):
            text = None if _is_blank(item) else _token(item).strip()
            if text is not None and re.fullmatch(r"-?[0-9]{1,12}", text):
                seconds[i], valid[i] = int(text), True
            errors.append(None if text is None or valid[i] else f"{column}: {_show(item)} is not a valid {self.label} date")
        stamps = pd.Series(seconds.astype("datetime64[s]").astype("datetime64[us]"))
        return stamps.where(valid, pd.NaT).astype("datetime64[us]"), errors


class _NativeTemporalCodec(_Codec):
    """Timestamps and dates as database-native values (PostgreSQL timestamp and date)."""

    dtype = "datetime64[us]"

    def __init__(self, is_date: bool) -> None:
        self.is_date = is_date
        self.wire_type = "date" if is_date else "timestamp"

    def encode(self, values: pd.Series) -> list[Any]:
        stamps = pd.to_datetime(pd.Series(_objects(values), dtype=object))
        if self.is_date:
            return [None if pd.isna(s) else s.date() for s in stamps]
        return [None if pd.isna(s) else s.to_pydatetime() for s in stamps]

    def decode(self, raw: pd.Series, column: str) -> tuple[pd.Series, list[str | None]]:
        stamps = pd.to_datetime(pd.Series(_objects(raw), dtype=object), errors="coerce").astype("datetime64[us]")
        if self.is_date:
            stamps = stamps.dt.normalize()
        errors = [f"{column}: {_show(v)} is not a database {self.wire_type}" if not _is_blank(v) and pd.isna(s) else None
                  for v, s in zip(raw.tolist(), stamps)]
        return stamps.reset_index(drop=True), errors


class _NativeBoolCodec(_Codec):
    wire_type = "bool"
    dtype = "boolean"

    def render(self, value: Any) -> Any:
        return bool(value)

    def parse(self, raw: Any) -> Any:
        if isinstance(raw, (bool, np.bool_)):
            return bool(raw)
        raise _BadValue("is not a database boolean")


def _codec_for(dialect: Dialect, fld: contract.Field, native: bool) -> _Codec:
    """The codec for one canonical field; ``native`` for database delivery (typed columns)."""
    if fld.dtype == "string":
        return _string_codec(dialect, fld.name)
    if fld.dtype in ("timestamp", "date"):
        is_date = fld.dtype == "date"
        if native:
            return _NativeTemporalCodec(is_date)
        fmt = dialect.date if is_date else dialect.timestamp
        return _EpochCodec(fmt) if fmt.epoch_seconds else _PatternTemporalCodec(fmt, is_date)
    if fld.dtype == "bool":
        return _NativeBoolCodec() if native else _BoolCodec(dialect.name, dialect.true_value, dialect.false_value)
    return _IntCodec() if fld.dtype == "int" else _FloatCodec()


def _string_codec(dialect: Dialect, column: str) -> _Codec:
    rule = dialect.codes.get(column)
    if rule is None or rule.rule == "home_office":
        return _TextCodec()
    if rule.rule == "map":
        return _CodeListCodec(dialect.name, column, rule.values)
    if rule.rule == "hocr_padded":
        return _HocrPaddedCodec()
    if rule.rule == "local_lookup":
        return _LocalOffenceCodec(dialect.name, rule.values, rule.fallback or "")
    if rule.rule == "list":
        return _ListCodec(rule.separator or "|")
    return _JsonArrayCodec()


def _codecs(dialect: Dialect, feed: str, entity: str, native: bool) -> dict[str, _Codec]:
    return {f.name: _codec_for(dialect, f, native) for f in contract.fields(feed, entity)}


# --------------------------------------------------------------------------------------------
# Canonical frames -> wire tables (dialect columns, wire values, layout applied)
# --------------------------------------------------------------------------------------------


@dataclass
class _WireTable:
    """One file's (or table's) content before serialisation: columns of wire values."""

    spec: FileSpec
    data: dict[str, list[Any]]
    types: dict[str, WireType]

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def rows(self) -> Iterable[tuple[Any, ...]]:
        return zip(*self.data.values())


def _canonical_frame(frames: dict[str, pd.DataFrame], feed: str, entity: str) -> pd.DataFrame:
    """The entity's frame with exactly the contract's columns, sorted by its record key.

    Sorting makes the bytes independent of the order the caller happened to build rows in;
    extra columns (the synthetic world's ground truth, say) are dropped, never exported.
    """
    if entity not in frames:
        raise ValueError(f"{feed} extract has no {entity!r} frame (expected {list(contract.entities(feed))})")
    frame = frames[entity]
    columns = contract.column_names(feed, entity)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{feed}.{entity} frame lacks canonical columns {missing}")
    key = list(contract.RECORD_KEYS[(feed, entity)])
    ordered = frame[columns].reset_index(drop=True)
    sort_keys = pd.DataFrame({c: ordered[c].astype(object).where(ordered[c].notna(), None) for c in key})
    order = sort_keys.sort_values(key, na_position="last", kind="stable").index
    return ordered.loc[order].reset_index(drop=True)


def _encode_entity(frame: pd.DataFrame, feed: str, entity: str, columns: dict[str, str],
                   codecs: dict[str, _Codec]) -> tuple[dict[str, list[Any]], dict[str, WireType]]:
    data: dict[str, list[Any]] = {}
    types: dict[str, WireType] = {}
    for name in contract.column_names(feed, entity):
        data[columns[name]] = codecs[name].encode(frame[name])
        types[columns[name]] = codecs[name].wire_type
    return data, types


def _wire_tables(frames: dict[str, pd.DataFrame], feed: str, dialect: Dialect, native: bool) -> list[_WireTable]:
    """Every file of the feed as wire tables, in the dialect's file order.

    ``native`` keeps timestamps, dates and flags as typed values (database delivery); nested
    JSON arrays always hold the dialect's file rendering, as a JSON document would.
    """
    unknown = sorted(set(frames) - set(contract.entities(feed)))
    if unknown:
        raise ValueError(f"{feed} extract has frames for unknown entities {unknown}")
    layout = dialect.feeds[feed]
    canonical = {entity: _canonical_frame(frames, feed, entity) for entity in contract.entities(feed)}
    overflow_rows: dict[str, list[int]] = {}
    tables: dict[str, _WireTable] = {}
    for spec in layout.files:
        if spec.kind in layout.overflow_kinds():
            continue
        codecs = _codecs(dialect, feed, spec.entity, native)
        data, types = _encode_entity(canonical[spec.entity], feed, spec.entity, layout.columns[spec.entity], codecs)
        if spec.embedding is not None:
            extra, extra_types, overflow = _embed(canonical, spec, layout, dialect, native)
            data.update(extra)
            types.update(extra_types)
            overflow_rows[spec.embedding.overflow] = overflow
        tables[spec.kind] = _WireTable(spec, data, types)
    for kind, positions in overflow_rows.items():
        spec = layout.spec(kind)
        children = canonical[spec.entity].loc[positions].reset_index(drop=True)
        codecs = _codecs(dialect, feed, spec.entity, native)
        data, types = _encode_entity(children, feed, spec.entity, layout.columns[spec.entity], codecs)
        tables[kind] = _WireTable(spec, data, types)
    return [tables[spec.kind] for spec in layout.files]


def _child_columns(layout: FeedLayout, embedding: Embedding) -> list[str]:
    """Canonical child columns held per child (the rest come from the parent or the group)."""
    implied = set(embedding.inherit) | ({embedding.group_by} if embedding.group_by else set())
    return [c for c in contract.column_names(layout.feed, embedding.entity) if c not in implied]


def _group_keys(embedding: Embedding) -> list[tuple[str | None, str]]:
    """(canonical group value, array key or column prefix) pairs, in config order."""
    if embedding.group_by:
        return list(embedding.groups.items())
    return [(None, embedding.array or embedding.entity)]


def _wide_column(embedding: Embedding, prefix: str, slot: int, column: str) -> str:
    return embedding.column_pattern.format(prefix=prefix, slot=slot, column=column)


def wide_columns(layout: FeedLayout, embedding: Embedding) -> list[str]:
    """Every numbered column a wide layout adds to its parent file, in file order."""
    child_map = layout.columns[embedding.entity]
    return [_wide_column(embedding, prefix, slot, child_map[c])
            for _, prefix in _group_keys(embedding)
            for slot in range(1, embedding.slots + 1)
            for c in _child_columns(layout, embedding)]


def _embed(canonical: dict[str, pd.DataFrame], spec: FileSpec, layout: FeedLayout, dialect: Dialect,
           native: bool) -> tuple[dict[str, list[Any]], dict[str, WireType], list[int]]:
    """Place children on their parents' rows; returns the extra columns and overflow positions."""
    embedding = spec.embedding
    assert embedding is not None
    parents, children = canonical[spec.entity], canonical[embedding.entity]
    child_native = native and embedding.style == "wide"
    child_codecs = _codecs(dialect, layout.feed, embedding.entity, child_native)
    child_map = layout.columns[embedding.entity]
    held = _child_columns(layout, embedding)
    wire = {c: child_codecs[c].encode(children[c]) for c in held}
    placed, overflow = _assign_children(parents, children, spec, embedding, wire)
    if embedding.style == "nested":
        data = {key: [[{child_map[c]: wire[c][i] for c in held} for i in placed[(p, group)]]
                      for p in range(len(parents))]
                for group, key in _group_keys(embedding)}
        return data, {key: "json" for key in data}, overflow
    data, types = {}, {}
    for group, prefix in _group_keys(embedding):
        per_parent = [placed.get((p, group), []) for p in range(len(parents))]
        for slot in range(1, embedding.slots + 1):
            in_slot = [held_children[slot - 1] if len(held_children) >= slot else None for held_children in per_parent]
            for c in held:
                name = _wide_column(embedding, prefix, slot, child_map[c])
                data[name] = [None if i is None else wire[c][i] for i in in_slot]
                types[name] = child_codecs[c].wire_type
    return data, types, overflow


def _assign_children(parents: pd.DataFrame, children: pd.DataFrame, spec: FileSpec, embedding: Embedding,
                     wire: dict[str, list[Any]]) -> tuple[dict[tuple[int, Any], list[int]], list[int]]:
    """Which parent row and group each child goes on, and which children overflow.

    A child overflows when its parent is not in the extract, its inherited values differ from
    the parent's, its group is not one the layout has, the wide layout's slots are full, or
    (wide) it has no values of its own to show that the slot is taken.
    """
    inherit = list(embedding.inherit)
    parent_values = {c: _objects(parents[c]) for c in inherit}
    child_values = {c: _objects(children[c]) for c in inherit}
    index: dict[tuple[Any, ...], int] = {}
    for p in range(len(parents)):
        index.setdefault(tuple(parent_values[c][p] for c in inherit), p)
    groups = _objects(children[embedding.group_by]) if embedding.group_by else [None] * len(children)
    known_groups = {group for group, _ in _group_keys(embedding)}
    placed: dict[tuple[int, Any], list[int]] = defaultdict(list)
    overflow: list[int] = []
    for i in range(len(children)):
        p = index.get(tuple(child_values[c][i] for c in inherit))
        group = groups[i]
        fits = p is not None and group in known_groups
        if fits and embedding.style == "wide":
            fits = len(placed[(p, group)]) < embedding.slots and any(wire[c][i] is not None for c in wire)
        if fits:
            placed[(p, group)].append(i)
        else:
            overflow.append(i)
    return placed, overflow


# --------------------------------------------------------------------------------------------
# Wire tables -> bytes
# --------------------------------------------------------------------------------------------


def _serialise(table: _WireTable) -> bytes:
    fmt = table.spec.format
    if fmt.type == "csv":
        return _csv_bytes(table, fmt)
    if fmt.type == "jsonl":
        return _jsonl_bytes(table, fmt)
    return _parquet_bytes(table)


def _csv_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _token(value)


def _csv_column(values: list[Any], fmt: FileFormat) -> list[str]:
    """One column's CSV fields. Quoting is done here, not by the csv module, which leaves a lone
    '\r' unquoted when the line terminator is '\n' and so splits the record on reading."""
    texts = [_csv_text(v) for v in values]
    if fmt.quoting == "all":
        return ['"' + t.replace('"', '""') + '"' for t in texts]
    special = re.compile("[" + re.escape(fmt.delimiter + '"\r\n') + "]")
    return ['"' + t.replace('"', '""') + '"' if special.search(t) else t for t in texts]


def _csv_bytes(table: _WireTable, fmt: FileFormat) -> bytes:
    header = _csv_column(list(table.data), fmt)
    columns = [_csv_column(values, fmt) for values in table.data.values()]
    lines = [fmt.delimiter.join(header)]
    lines.extend(fmt.delimiter.join(row) for row in zip(*columns))
    text = "".join(line + fmt.line_terminator for line in lines)
    return text.encode(fmt.encoding, errors="replace" if fmt.unencodable == "replace" else "strict")


def _jsonl_bytes(table: _WireTable, fmt: FileFormat) -> bytes:
    names = list(table.data)
    lines = [json.dumps(dict(zip(names, row)), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
             for row in table.rows()]
    text = "".join(line + fmt.line_terminator for line in lines)
    return text.encode(fmt.encoding, errors="replace" if fmt.unencodable == "replace" else "strict")


_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
    "timestamp": pa.timestamp("us"), "date": pa.date32(),
}


def _parquet_bytes(table: _WireTable) -> bytes:
    arrays = []
    for name, values in table.data.items():
        wire_type = table.types[name]
        if wire_type not in _ARROW_TYPES:
            raise ValueError(f"{table.spec.file_name}: column {name} ({wire_type}) cannot be written to Parquet")
        arrays.append(pa.array(_checked(values, wire_type, name), type=_ARROW_TYPES[wire_type]))
    arrow = pa.Table.from_arrays(arrays, names=list(table.data))
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()


def _checked(values: list[Any], wire_type: WireType, column: str) -> list[Any]:
    """Typed sinks cannot hold a verbatim unknown code; say which column and value."""
    if wire_type == "int":
        for value in values:
            if value is not None and not isinstance(value, int):
                raise ValueError(f"column {column} holds numbers in this dialect; cannot write {value!r} "
                                 "(a canonical value outside the code list?)")
    return values


# --------------------------------------------------------------------------------------------
# Public API: files
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """Lineage for one file read (or database table): where, how big, digest, data rows.

    ``path`` is the file's path, or ``postgres:<schema>.<table>``; for a table ``bytes`` and
    ``sha256`` are of a canonical JSON-lines rendering of the month's rows, so re-reading
    unchanged data gives the same digest.
    """

    path: str
    bytes: int
    sha256: str
    rows: int


@dataclass
class DecodedExtract:
    """One force, feed and month in canonical form, with the lineage of every row and file."""

    frames: dict[str, pd.DataFrame]
    files: list[SourceFile]

    def decode_error_rows(self) -> int:
        """How many rows, over all entities, have at least one value that did not decode."""
        return int(sum(frame["_decode_errors"].notna().sum() for frame in self.frames.values()))


def write_extract(frames: dict[str, pd.DataFrame], feed: str, dialect: Dialect, dest_dir: Path) -> list[Path]:
    """Write one force's feed for one month in the dialect's files; returns their paths.

    ``frames`` maps each entity of the feed to a canonical frame (extra columns are ignored).
    The same frames always give the same bytes, and an empty month still gives every file
    (with its header where the format has one).
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in _wire_tables(frames, feed, dialect, native=False):
        path = dest_dir / table.spec.file_name
        path.write_bytes(_serialise(table))
        written.append(path)
    return written


def read_extract(src_dir: Path, feed: str, dialect: Dialect) -> DecodedExtract:
    """Read one force's feed for one month from the dialect's files into canonical frames.

    Raises ExtractFileError for a file that is missing or cannot be read as the dialect says;
    a single value that cannot be decoded becomes null and is described in ``_decode_errors``.
    """
    src_dir = Path(src_dir)
    layout = dialect.feeds[feed]
    _require_files(src_dir, layout, dialect)
    tables: list[_RawTable] = []
    files: list[SourceFile] = []
    for spec in layout.files:
        path = src_dir / spec.file_name
        data = _read_bytes(path)
        raw = _parse_file(path, data, spec)
        tables.append(raw)
        files.append(SourceFile(str(path), len(data), hashlib.sha256(data).hexdigest(), raw.n_rows))
    return DecodedExtract(_decode_feed(tables, layout, dialect, native=False), files)


def _require_files(src_dir: Path, layout: FeedLayout, dialect: Dialect) -> None:
    missing = [spec.file_name for spec in layout.files if not (src_dir / spec.file_name).is_file()]
    if missing:
        expected = ", ".join(spec.file_name for spec in layout.files)
        raise ExtractFileError(src_dir / missing[0], f"file is missing: a {dialect.name} {layout.feed} extract "
                                                      f"has {expected}; not found: {', '.join(missing)}")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ExtractFileError(path, "file is missing") from None
    except OSError as error:
        raise ExtractFileError(path, f"cannot read the file: {error.strerror or error}") from None


# --------------------------------------------------------------------------------------------
# Bytes -> raw tables (dialect columns, raw values)
# --------------------------------------------------------------------------------------------


@dataclass
class _RawTable:
    """One file's rows as read, before decoding: raw values under the dialect's column names."""

    spec: FileSpec
    source: str
    frame: pd.DataFrame
    source_rows: list[int]
    row_errors: list[list[str]]
    location: str = ""

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def _parse_file(path: Path, data: bytes, spec: FileSpec) -> _RawTable:
    if spec.format.type == "csv":
        frame, rows, errors = _parse_csv(path, data, spec.format)
    elif spec.format.type == "jsonl":
        frame, rows, errors = _parse_jsonl(path, data, spec.format)
    else:
        frame, rows, errors = _parse_parquet(path, data)
    return _RawTable(spec, path.name, frame, rows, errors, location=str(path))


def _decode_text(path: Path, data: bytes, fmt: FileFormat) -> str:
    utf8_expected = fmt.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    encoding = "utf-8-sig" if utf8_expected else fmt.encoding
    if not utf8_expected and _is_multibyte_utf8(data):
        # A UTF-8 file read as a single-byte code page decodes "successfully" into mojibake
        # ('ZoÃ«'), which would silently break names for person resolution: refuse it.
        raise ExtractFileError(path, f"is UTF-8 encoded, but this dialect exports {fmt.encoding} (Windows code page): "
                                     f"ask the force to re-export it as {fmt.encoding}")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        byte = data[error.start]
        raise ExtractFileError(path, f"is not valid {fmt.encoding} text (byte 0x{byte:02x} at offset {error.start}); "
                                     f"this dialect exports {fmt.encoding}: was the file saved in another "
                                     "encoding, or is it not a text file?") from None


def _is_multibyte_utf8(data: bytes) -> bool:
    """True when the bytes hold non-ASCII text that is valid UTF-8.

    Text in a single-byte code page with accented letters is almost never valid UTF-8 by
    chance, so valid multi-byte sequences mean the file was saved as UTF-8.
    """
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse_csv(path: Path, data: bytes, fmt: FileFormat) -> tuple[pd.DataFrame, list[int], list[list[str]]]:
    text = _decode_text(path, data, fmt)
    if not text.strip():
        raise ExtractFileError(path, "file is empty: expected at least a header row (an empty month still has one)")
    _check_not_truncated(path, text, fmt)
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True)
    try:
        header = next(reader)
        records = [record for record in reader if record]
    except csv.Error as error:
        raise ExtractFileError(path, f"malformed CSV at line {reader.line_num}: {error}") from None
    _check_delimiter(path, header, fmt)
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise ExtractFileError(path, f"header repeats columns {', '.join(duplicates)}")
    rows, errors = [], []
    for record in records:
        problems = []
        if len(record) != len(header):
            problems.append(f"row has {len(record)} fields but the header has {len(header)}")
            record = (record + [""] * len(header))[: len(header)]
        rows.append(record)
        errors.append(problems)
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)
    return frame, list(range(1, len(rows) + 1)), errors


def _parse_jsonl(path: Path, data: bytes, fmt: FileFormat) -> tuple[pd.DataFrame, list[int], list[list[str]]]:
    text = _decode_text(path, data, fmt)
    records: list[dict[str, Any]] = []
    line_numbers: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ExtractFileError(path, f"line {number} is not valid JSON ({error.msg} at column {error.colno}); "
                                         "the file looks truncated or corrupt") from None
        if not isinstance(record, dict):
            raise ExtractFileError(path, f"line {number} is a JSON {type(record).__name__}, expected one object per line")
        records.append(record)
        line_numbers.append(number)
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
                         index=pd.RangeIndex(len(records)))
    return frame, line_numbers, [[] for _ in records]


def _parse_parquet(path: Path, data: bytes) -> tuple[pd.DataFrame, list[int], list[list[str]]]:
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise ExtractFileError(path, f"is not a readable Parquet file: {error}") from None
    frame = pd.DataFrame({name: pd.Series(table.column(name).to_pylist(), dtype=object) for name in table.column_names},
                         index=pd.RangeIndex(table.num_rows))
    return frame, list(range(1, table.num_rows + 1)), [[] for _ in range(table.num_rows)]


# --------------------------------------------------------------------------------------------
# Raw tables -> canonical frames
# --------------------------------------------------------------------------------------------


@dataclass
class _RawPart:
    """Raw rows of one entity from one place (a file, or the children embedded in one)."""

    frame: pd.DataFrame
    source_files: list[str]
    source_rows: list[int]
    row_errors: list[list[str]]
    native: bool


def _decode_feed(tables: list[_RawTable], layout: FeedLayout, dialect: Dialect, native: bool) -> dict[str, pd.DataFrame]:
    parts: dict[str, list[_RawPart]] = defaultdict(list)
    embedded: set[str] = set()
    for raw in tables:
        _check_required_columns(raw, layout)
        if raw.spec.embedding is not None:
            parts[raw.spec.embedding.entity].append(_unembed(raw, layout, dialect, native))
            embedded.add(raw.spec.embedding.entity)
        parts[raw.spec.entity].append(
            _RawPart(raw.frame, [raw.source] * raw.n_rows, raw.source_rows, raw.row_errors, native))
    frames = {}
    for entity in contract.entities(layout.feed):
        frame = _decode_entity(parts[entity], layout, entity, dialect)
        if entity in embedded:
            frame = _sort_by_key(frame, layout.feed, entity)
        frames[entity] = frame
    return frames


def _check_not_truncated(path: Path, text: str, fmt: FileFormat) -> None:
    """A CSV whose last record is short and has no line end was cut off in transfer."""
    if not text or text.endswith(("\n", "\r")):
        return
    lines = text.splitlines()
    if len(lines) < 2:
        return
    reader = csv.reader(io.StringIO(lines[0] + "\n" + lines[-1]), delimiter=fmt.delimiter)
    try:
        header, last = next(reader), next(reader, [])
    except csv.Error:
        return
    if len(last) < len(header):
        raise ExtractFileError(path, f"file is truncated: its last row stops after {len(last)} of {len(header)} "
                                     "fields with no line end, so the rest of the file was lost in transfer; "
                                     "ask the force to re-send it")


def _check_delimiter(path: Path, header: list[str], fmt: FileFormat) -> None:
    """A header that is one cell holding another separator means the wrong delimiter was used."""
    if len(header) != 1:
        return
    for candidate in (";", ",", "|", "\t"):
        if candidate != fmt.delimiter and header[0].count(candidate) >= 2:
            raise ExtractFileError(path, f"uses the delimiter {candidate!r} but this dialect's files are delimited "
                                         f"by {fmt.delimiter!r}: the header is one column "
                                         f"'{header[0][:60]}...'; ask the force to re-export with {fmt.delimiter!r}")


def _check_required_columns(raw: _RawTable, layout: FeedLayout) -> None:
    """A file whose header lacks a required column cannot be loaded; name what is missing."""
    if raw.spec.format.type == "jsonl" and raw.n_rows == 0:
        return
    mapping = layout.columns[raw.spec.entity]
    missing = [f"{mapping[f.name]} ({f.name})" for f in contract.fields(layout.feed, raw.spec.entity)
               if f.required and mapping[f.name] not in raw.frame.columns]
    if missing:
        raise ExtractFileError(raw.location or raw.source, f"missing required columns: {', '.join(missing)}")


def _decode_entity(parts: list[_RawPart], layout: FeedLayout, entity: str, dialect: Dialect) -> pd.DataFrame:
    decoded = [_decode_part(part, layout, entity, dialect) for part in parts]
    if not decoded:
        decoded = [_decode_part(_empty_part(), layout, entity, dialect)]
    frame = pd.concat(decoded, ignore_index=True) if len(decoded) > 1 else decoded[0]
    return _with_canonical_dtypes(frame, layout.feed, entity)


def _empty_part() -> _RawPart:
    return _RawPart(pd.DataFrame(), [], [], [], native=False)


def _decode_part(part: _RawPart, layout: FeedLayout, entity: str, dialect: Dialect) -> pd.DataFrame:
    mapping = layout.columns[entity]
    codecs = _codecs(dialect, layout.feed, entity, part.native)
    n_rows = len(part.source_rows)
    frame = part.frame.reset_index(drop=True)
    columns: dict[str, pd.Series] = {}
    errors = [list(problems) for problems in part.row_errors]
    for fld in contract.fields(layout.feed, entity):
        name = mapping[fld.name]
        raw = frame[name] if name in frame.columns else pd.Series([None] * n_rows, dtype=object)
        values, problems = codecs[fld.name].decode(raw, fld.name)
        columns[fld.name] = values.reset_index(drop=True)
        for row, problem in enumerate(problems):
            if problem:
                errors[row].append(problem)
    columns["_source_file"] = pd.Series(part.source_files, dtype=object)
    columns["_source_row"] = pd.Series(part.source_rows, dtype="int64")
    columns["_decode_errors"] = pd.Series(["; ".join(e) if e else None for e in errors], dtype=object)
    return pd.DataFrame(columns, index=pd.RangeIndex(n_rows))


_CANONICAL_DTYPES = {"string": "object", "timestamp": "datetime64[us]", "date": "datetime64[us]",
                     "bool": "boolean", "int": "Int64", "float": "float64"}


def _with_canonical_dtypes(frame: pd.DataFrame, feed: str, entity: str) -> pd.DataFrame:
    """Pin the documented dtypes (concatenating parts must not drift them)."""
    out = {}
    for fld in contract.fields(feed, entity):
        column = frame[fld.name]
        if fld.dtype == "string":
            out[fld.name] = column.astype(object).where(column.notna(), None)
        else:
            out[fld.name] = column.astype(_CANONICAL_DTYPES[fld.dtype])
    out["_source_file"] = frame["_source_file"].astype(object)
    out["_source_row"] = frame["_source_row"].astype("int64")
    out["_decode_errors"] = frame["_decode_errors"].astype(object).where(frame["_decode_errors"].notna(), None)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _sort_by_key(frame: pd.DataFrame, feed: str, entity: str) -> pd.DataFrame:
    """Embedded children come back in record-key order, whichever row or slot held them."""
    key = list(contract.RECORD_KEYS[(feed, entity)])
    return frame.sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


def _unembed(raw: _RawTable, layout: FeedLayout, dialect: Dialect, native: bool) -> _RawPart:
    """The children carried on the parent rows of one file, as raw rows of the child entity."""
    embedding = raw.spec.embedding
    assert embedding is not None
    parent_map = layout.columns[raw.spec.entity]
    child_map = layout.columns[embedding.entity]
    inherited = {child_map[c]: _column_or_none(raw.frame, parent_map[c]) for c in embedding.inherit}
    group_tokens = _group_tokens(dialect, layout, embedding)
    if embedding.style == "nested":
        return _unnest(raw, layout, embedding, inherited, group_tokens)
    return _unwiden(raw, layout, embedding, inherited, group_tokens, native)


def _column_or_none(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _group_tokens(dialect: Dialect, layout: FeedLayout, embedding: Embedding) -> dict[Any, Any]:
    """How the dialect writes each group value (a role), so implied roles decode like written ones."""
    if not embedding.group_by:
        return {}
    codec = _string_codec(dialect, embedding.group_by)
    groups = [group for group, _ in _group_keys(embedding)]
    return dict(zip(groups, codec.encode(pd.Series(groups, dtype=object))))


def _unnest(raw: _RawTable, layout: FeedLayout, embedding: Embedding, inherited: dict[str, list[Any]],
            group_tokens: dict[Any, Any]) -> _RawPart:
    child_map = layout.columns[embedding.entity]
    held = [child_map[c] for c in _child_columns(layout, embedding)]
    group_column = child_map[embedding.group_by] if embedding.group_by else None
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    arrays = {key: _column_or_none(raw.frame, key) for _, key in _group_keys(embedding)}
    for position in range(raw.n_rows):
        for group, key in _group_keys(embedding):
            value = arrays[key][position]
            if _is_blank(value):
                continue
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raw.row_errors[position].append(f"{key}: expected a JSON array of objects")
                continue
            for item in value:
                record = {name: item.get(name) for name in held}
                record.update({name: values[position] for name, values in inherited.items()})
                if group_column:
                    record[group_column] = group_tokens[group]
                records.append(record)
                rows.append(position)
    columns = list(child_map.values())
    frame = pd.DataFrame({c: pd.Series([r.get(c) for r in records], dtype=object) for c in columns},
                         index=pd.RangeIndex(len(records)))
    return _RawPart(frame, [raw.source] * len(rows), [raw.source_rows[p] for p in rows],
                    [[] for _ in rows], native=False)


def _unwiden(raw: _RawTable, layout: FeedLayout, embedding: Embedding, inherited: dict[str, list[Any]],
             group_tokens: dict[Any, Any], native: bool) -> _RawPart:
    child_map = layout.columns[embedding.entity]
    held = [child_map[c] for c in _child_columns(layout, embedding)]
    slices: list[pd.DataFrame] = []
    positions: list[int] = []
    for group, prefix in _group_keys(embedding):
        for slot in range(1, embedding.slots + 1):
            names = {_wide_column(embedding, prefix, slot, name): name for name in held}
            present = [name for name in names if name in raw.frame.columns]
            if not present:
                continue
            cells = raw.frame[present]
            taken = (cells.notna() & cells.ne("")).any(axis=1)
            rows = [i for i, used in enumerate(taken.tolist()) if used]
            if not rows:
                continue
            part = raw.frame.loc[rows, present].rename(columns=names).reset_index(drop=True)
            for name, values in inherited.items():
                part[name] = [values[i] for i in rows]
            if embedding.group_by:
                part[child_map[embedding.group_by]] = group_tokens[group]
            slices.append(part)
            positions.extend(rows)
    frame = pd.concat(slices, ignore_index=True) if slices else pd.DataFrame(columns=list(child_map.values()))
    frame = frame.astype(object)
    return _RawPart(frame, [raw.source] * len(positions), [raw.source_rows[p] for p in positions],
                    [[] for _ in positions], native=native)


# --------------------------------------------------------------------------------------------
# PostgreSQL delivery
# --------------------------------------------------------------------------------------------

_PG_TYPES: dict[str, str] = {"string": "text", "int": "bigint", "float": "double precision", "bool": "boolean",
                             "timestamp": "timestamp", "date": "date", "json": "jsonb"}
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def postgres_table_name(feed: str, kind: str) -> str:
    """The table that holds one file kind of a feed: ``<feed>_<kind>``."""
    return f"{feed}_{kind}"


def write_extract_postgres(frames: dict[str, pd.DataFrame], feed: str, dialect: Dialect, month: str,
                           conninfo: str, schema: str) -> int:
    """Load one force's feed for one month into its dialect-shaped tables; returns rows loaded.

    One table per file kind (``<feed>_<kind>``) in ``schema``, created if absent, with the
    dialect's column names and code lists but native types (a database holds timestamps as
    timestamps) and an ``extract_month`` column. The month's rows are replaced in one
    transaction, so re-running a month never duplicates it.
    """
    import psycopg
    from psycopg import sql

    _check_month(month)
    tables = _wire_tables(frames, feed, dialect, native=True)
    loaded = 0
    with psycopg.connect(conninfo) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"forceprofiles:{schema}",))
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            for table in tables:
                name = postgres_table_name(feed, table.spec.kind)
                target = sql.Identifier(schema, name)
                _ensure_table(cursor, schema, name, table)
                cursor.execute(sql.SQL("DELETE FROM {} WHERE extract_month = %s").format(target), (month,))
                loaded += _copy_rows(cursor, target, table, month)
    return loaded


def _check_month(month: str) -> None:
    if not _MONTH.match(month):
        raise ValueError(f"month must look like YYYY-MM, got {month!r}")


def _ensure_table(cursor: Any, schema: str, name: str, table: _WireTable) -> None:
    """Create the table, or add columns a changed dialect has since gained."""
    from psycopg import sql

    target = sql.Identifier(schema, name)
    columns = [sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(_PG_TYPES[table.types[name]]))
               for name in table.data]
    cursor.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (extract_month text NOT NULL, {})").format(
        target, sql.SQL(", ").join(columns)))
    for column in columns:
        cursor.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {}").format(target, column))
    index = sql.Identifier(f"{name}_month_idx"[:63])
    cursor.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (extract_month)").format(index, target))


def _copy_rows(cursor: Any, target: Any, table: _WireTable, month: str) -> int:
    from psycopg import sql
    from psycopg.types.json import Jsonb

    names = list(table.data)
    json_columns = [i for i, name in enumerate(names) if table.types[name] == "json"]
    for name in names:
        _checked(table.data[name], table.types[name], name)
    statement = sql.SQL("COPY {} (extract_month, {}) FROM STDIN").format(
        target, sql.SQL(", ").join(sql.Identifier(name) for name in names))
    with cursor.copy(statement) as copy:
        for row in table.rows():
            values = list(row)
            for i in json_columns:
                values[i] = None if values[i] is None else Jsonb(values[i])
            copy.write_row([month, *values])
    return table.n_rows


def read_extract_postgres(conninfo: str, schema: str, feed: str, dialect: Dialect, month: str) -> DecodedExtract:
    """Read one force's feed for one month from its dialect-shaped tables (see the writer).

    Same output as :func:`read_extract`; ``_source_file`` is ``postgres:<schema>.<table>`` and
    ``_source_row`` the row's position when the month's rows are ordered by record key.
    """
    import psycopg

    _check_month(month)
    layout = dialect.feeds[feed]
    tables: list[_RawTable] = []
    files: list[SourceFile] = []
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for spec in layout.files:
            raw, source = _read_table(cursor, schema, feed, layout, spec, month)
            tables.append(raw)
            files.append(source)
    return DecodedExtract(_decode_feed(tables, layout, dialect, native=True), files)


def _read_table(cursor: Any, schema: str, feed: str, layout: FeedLayout, spec: FileSpec,
                month: str) -> tuple[_RawTable, SourceFile]:
    from psycopg import sql

    table_name = postgres_table_name(feed, spec.kind)
    source = f"postgres:{schema}.{table_name}"
    cursor.execute("SELECT column_name, data_type FROM information_schema.columns "
                   "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position", (schema, table_name))
    existing = dict(cursor.fetchall())
    if not existing:
        raise ExtractFileError(source, f"table does not exist (a {feed} extract in this dialect needs "
                                       f"{', '.join(postgres_table_name(feed, s.kind) for s in layout.files)})")
    columns = [name for name in existing if name != "extract_month"]
    key = [layout.columns[spec.entity][c] for c in contract.RECORD_KEYS[(feed, spec.entity)]]
    order = [sql.SQL("{} {} NULLS LAST").format(sql.Identifier(c), sql.SQL('COLLATE "C"' if existing[c] == "text" else ""))
             for c in key if c in columns]
    query = sql.SQL("SELECT {} FROM {} AS t WHERE extract_month = %s ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), sql.Identifier(schema, table_name),
        sql.SQL(", ").join([*order, sql.SQL("t::text")]))
    cursor.execute(query, (month,))
    records = cursor.fetchall()
    frame = pd.DataFrame({c: pd.Series([r[i] for r in records], dtype=object) for i, c in enumerate(columns)},
                         index=pd.RangeIndex(len(records)))
    raw = _RawTable(spec, source, frame, list(range(1, len(records) + 1)), [[] for _ in records])
    digest_text = "".join(json.dumps(list(r), default=str, ensure_ascii=False) + "\n" for r in records).encode()
    return raw, SourceFile(source, len(digest_text), hashlib.sha256(digest_text).hexdigest(), len(records))
