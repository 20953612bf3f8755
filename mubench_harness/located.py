"""YAML read with the location of every node, so an error names ``FILE:LINE:COL`` of the key or value at
fault. PyYAML's safe composer builds the node tree; Python tags and any other non-standard tag are
rejected before anything is constructed. Used by the benchmark files' validation (:mod:`.config`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

Loc = tuple[Any, ...]


class ConfigError(Exception):
    """A located problem with a benchmark file; ``str()`` is the one-line ``FILE:LINE:COL: message``."""

    def __init__(self, file: str, line: int, col: int, message: str):
        super().__init__(f"{file}:{line}:{col}: {message}")
        self.file, self.line, self.col, self.message = file, line, col, message


# --------------------------------------------------------------------------------------------------
# The benchmark file's schema
# --------------------------------------------------------------------------------------------------


_STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}


@dataclass
class Located:
    """A loaded document with the ``(line, col)`` (1-based) of every key path."""

    file: str
    data: Any
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def where(self, loc: Loc) -> tuple[int, int]:
        """The mark of ``loc`` or of its nearest present ancestor (a missing key: its mapping)."""
        loc = tuple(loc)
        while loc not in self.marks and loc:
            loc = loc[:-1]
        return self.marks.get(loc, (1, 1))

    def error(self, loc: Loc, message: str) -> ConfigError:
        line, col = self.where(loc)
        return ConfigError(self.file, line, col, message)


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_located(path: str | Path) -> Located:
    """Read a YAML file safely, keeping every node's location. Raises :class:`ConfigError`."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(file, 1, 1, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(file, line, col, "not a UTF-8 text file (binary data?)") from None
    loader = None
    try:
        loader = yaml.SafeLoader(text)  # its reader rejects control characters right here
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(file, 1, 1, "the file is empty; expected a mapping of benchmark settings")
        doc = Located(file, None)
        _check_tags(node, (), doc)
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(file, line, col, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # reader errors: control characters and the like
        mark = getattr(exc, "position", None)
        line = text[:mark].count("\n") + 1 if isinstance(mark, int) else 1
        raise ConfigError(file, line, 1, f"invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(doc.data, dict):
        raise ConfigError(file, *_mark(node), f"expected a mapping of benchmark settings, got {type(doc.data).__name__}")
    return doc


def _check_tags(node, loc: Loc, doc: Located, value_of_key: bool = False) -> None:
    """Reject non-standard tags; record the mark of every key (at its path) and every value (at its
    path + ``"<value>"``) so errors about a key and errors about its value point at different places."""
    doc.marks[loc + ("<value>",) if value_of_key else loc] = _mark(node)
    if node.tag not in _STANDARD_TAGS:
        kind = "python tags are not allowed" if "python" in node.tag else "unsupported tag"
        raise ConfigError(doc.file, *_mark(node), f"{kind}: {node.tag}")
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, tuple[int, int]] = {}  # PyYAML keeps the last of two equal keys without a word
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise ConfigError(doc.file, *_mark(key), "mapping keys must be plain scalars")
            if key.value in seen:
                first = seen[key.value]
                raise ConfigError(doc.file, *_mark(key), f"duplicate key {key.value!r}: already given at "
                                  f"{doc.file}:{first[0]}:{first[1]} (one of the two would be dropped)")
            seen[key.value] = _mark(key)
            _check_tags(key, loc + (key.value,), doc)
            _check_tags(value, loc + (key.value,), doc, value_of_key=True)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_tags(item, loc + (i,), doc)


def value_loc(doc: Located, loc: Loc) -> Loc:
    """Errors about a *value* point at the value (or, for a part the file does not spell out, such as
    ``rule`` of ``optimizer: fancy``, at the nearest value that is there); about a key, at the key."""
    for n in range(len(loc), -1, -1):
        if loc[:n] + ("<value>",) in doc.marks:
            return loc[:n] + ("<value>",)
        if loc[:n] in doc.marks:
            return loc[:n]
    return ()


def pydantic_error(doc: Located, exc: ValidationError, prefix: Loc = ()) -> ConfigError:
    errors = exc.errors()
    # an unknown key explains a "missing" one next to it (a typo): report it first
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    where = ".".join(str(p) for p in loc) or "top level"
    kind = err["type"]
    if kind == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else "")
        return doc.error(loc, message)
    if kind == "missing":
        return doc.error(loc[:-1], f"missing required key {loc[-1]!r}" + (f" in {'.'.join(map(str, loc[:-1]))}" if len(loc) > 1 else ""))
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    shown = f" (got {got!r})" if not isinstance(got, (dict, list)) and kind not in ("value_error",) else ""
    return doc.error(value_loc(doc, loc), f"{where}: {msg}{shown}")
