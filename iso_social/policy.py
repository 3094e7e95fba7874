"""Policy documents: YAML files in `policies/`, each a controlled document (ISO 9001 §7.5).

Loading validates the document with pydantic, then each control's `params` against its type's
`params_model`. Every problem becomes a `PolicyError` naming the file, the line and the field
(`controls[2].params.deadline`), with a hint; all problems of a file are reported together.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from iso_social.clock import BusinessCalendar, CalendarSpec, Duration, iana_zone
from iso_social.controls import control_type, control_types
from iso_social.domain import Channel, Severity
from iso_social.errors import PolicyError, PolicyErrors

POLICY_SUFFIXES = (".yaml", ".yml")
ControlId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class Band(BaseModel):
    """A grade for a measured share below a threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    below: Annotated[float, Field(gt=0, le=1)]
    grade: Severity


class WaiverScope(BaseModel):
    """What a waiver covers: channels, conversations and/or a period (all of it by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    channels: tuple[Channel, ...] = ()
    conversations: tuple[str, ...] = ()
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")


class Waiver(BaseModel):
    """An approved, justified and expiring exception to a control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str
    justification: Text
    approved_by: Text
    approved_on: date
    expires: date
    scope: WaiverScope = Field(default_factory=WaiverScope)


class ControlSpec(BaseModel):
    """One control as written in a policy document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ControlId
    type: str
    title: Text
    description: str | None = None
    channels: tuple[Channel, ...] = ()
    clauses: tuple[str, ...] = ()
    severity: Severity
    grading: tuple[Band, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)


_CRON_FIELD = r"[\d*/,\-A-Za-z?]+"


class ScheduleSpec(BaseModel):
    """When a policy's controls are checked by `iso-social schedule run`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cron: (
        Annotated[str, StringConstraints(pattern=rf"^\s*{_CRON_FIELD}(\s+{_CRON_FIELD}){{4}}\s*$")]
        | None
    ) = None
    every: Duration | None = None
    window: Duration = timedelta(days=30)
    timezone: Annotated[str, AfterValidator(iana_zone)] = "UTC"

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every is None):
            raise ValueError(
                "give either `cron` (five fields, e.g. '0 * * * *') or `every` (e.g. 1h)"
            )
        return self


class CorrectiveActionSpec(BaseModel):
    """How nonconformities raised under this document are followed through (ISO 9001 §10.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effectiveness_runs: Annotated[int, Field(ge=1, le=100)] = 2
    escalate_repeated_minor: bool = False


class PolicyDocument(BaseModel):
    """A policy file: document-control metadata, calendars and controls."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ControlId
    title: Text
    version: Text
    owner: Text
    approved_by: Text
    approved_on: date
    effective_from: date
    review_due: date | None = None
    scope: str | None = None
    description: str | None = None
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    corrective_action: CorrectiveActionSpec = Field(default_factory=CorrectiveActionSpec)
    schedule: ScheduleSpec | None = None
    controls: tuple[ControlSpec, ...]
    waivers: tuple[Waiver, ...] = ()

    @model_validator(mode="after")
    def _waivers_name_controls(self) -> PolicyDocument:
        known = {c.id for c in self.controls}
        for waiver in self.waivers:
            if waiver.control not in known:
                raise ValueError(
                    f"waiver for '{waiver.control}': no control with that id in this document"
                )
        return self


@dataclass(frozen=True)
class Control:
    """A control ready to evaluate: its spec, its type's validated params and its policy."""

    spec: ControlSpec
    params: BaseModel
    policy_id: str


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy document and the digest of the file it came from."""

    path: Path
    sha256: str
    document: PolicyDocument
    controls: tuple[Control, ...]
    source: bytes

    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """The document's calendars, ready for business-time arithmetic; built once, so every
        control of the document shares their per-day windows and holiday tables."""
        return self._calendars

    @cached_property
    def _calendars(self) -> Mapping[str, BusinessCalendar]:
        return {name: BusinessCalendar(spec) for name, spec in self.document.calendars.items()}


def _location(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _node_line(root: yaml.Node | None, loc: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its deepest existing ancestor)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return line
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _duplicate_keys(
    node: yaml.Node | None, path: Path, loc: tuple[str | int, ...] = ()
) -> Iterable[PolicyError]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                yield PolicyError(
                    path,
                    _location((*loc, key.value)),
                    "duplicate key; the second value would silently replace the first",
                    line=key.start_mark.line + 1,
                    hint="remove one of the two",
                )
            seen.add(key.value)
            yield from _duplicate_keys(value, path, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, path, (*loc, index))


def _allowed_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names allowed at the parent of `loc`, for 'did you mean' hints."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        current = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
        if current is None:
            return []
    return list(getattr(current, "model_fields", {}))


def _errors_from(
    exc: ValidationError,
    path: Path,
    root: yaml.Node | None,
    model: type[BaseModel],
    prefix: tuple[str | int, ...] = (),
) -> list[PolicyError]:
    errors = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = (*prefix, *error["loc"])
        line = _node_line(root, loc)
        problem, hint = error["msg"], None
        if error["type"] == "extra_forbidden":
            field = str(loc[-1])
            allowed = _allowed_fields(model, error["loc"])
            close = difflib.get_close_matches(field, allowed, n=1)
            problem = f"unknown field '{field}'"
            hint = (f"did you mean '{close[0]}'? " if close else "") + (
                f"allowed fields: {', '.join(allowed)}" if allowed else ""
            )
        elif error["type"] == "missing":
            problem = "required field is missing"
        elif error["type"] == "string_type" and loc and loc[-1] == "version":
            hint = 'quote the version so it stays text: version: "1.0"'
        elif error["type"].startswith("value_error"):
            problem = problem.removeprefix("Value error, ")
        errors.append(PolicyError(path, _location(loc), problem, line=line, hint=hint))
    return errors


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file; raise `PolicyErrors` listing every problem found."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise PolicyErrors(
            [PolicyError(path, "", f"cannot read the file ({exc.strerror})")]
        ) from exc
    return parse_policy(source, path)


MAX_DEPTH = 64
MAX_VALUES = 100_000


def _check_size(root: yaml.Node | None, path: Path) -> None:
    """Refuse documents nested too deeply or expanding to too many values through aliases
    (the "billion laughs" shape), before anything walks them recursively."""
    pending: list[tuple[yaml.Node, int]] = [(root, 1)] if root is not None else []
    visited = 0
    while pending:
        node, depth = pending.pop()
        visited += 1
        if depth > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise PolicyErrors(
                [PolicyError(path, "", f"nested deeper than {MAX_DEPTH} levels", line=line)]
            )
        if visited > MAX_VALUES:
            raise PolicyErrors(
                [
                    PolicyError(
                        path,
                        "",
                        f"the document expands to more than {MAX_VALUES} values",
                        hint="YAML aliases (*name) repeat what they point to; write the "
                        "values out instead",
                    )
                ]
            )
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                pending.extend(((key, depth + 1), (value, depth + 1)))


# libyaml's safe loader parses a policy in a tenth of the pure-Python loader's time, but its
# composer recurses in C and crashes the process (no RecursionError) somewhere between 20,000
# and 50,000 nested levels. A document shorter than this cannot nest that deep (each level
# takes a character); longer ones, never seen in practice, take the pure-Python loader, whose
# RecursionError becomes a policy error. tests/test_policy_fuzz.py feeds both.
LIBYAML_MAX_CHARS = 16_384


def _loader_for(text: str) -> Any:
    if len(text) < LIBYAML_MAX_CHARS and hasattr(yaml, "CSafeLoader"):
        return yaml.CSafeLoader
    return yaml.SafeLoader


def parse_policy(source: bytes, path: Path) -> Policy:
    """Validate the bytes of a policy document; `path` names it in errors."""
    try:
        text = source.decode("utf-8-sig")
        loader = _loader_for(text)
        root = yaml.compose(text, Loader=loader)
        _check_size(root, path)
        data = yaml.load(text, Loader=loader)  # noqa: S506 (both loaders are safe loaders)
    except UnicodeDecodeError as exc:
        raise PolicyErrors(
            [PolicyError(path, "", "not valid UTF-8", hint="save the file as UTF-8")]
        ) from exc
    except RecursionError:
        raise PolicyErrors(
            [PolicyError(path, "", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise PolicyErrors(
            [
                PolicyError(
                    path,
                    "",
                    f"YAML syntax error: {problem}",
                    line=mark.line + 1 if mark else None,
                    hint="check the indentation and quoting on that line",
                )
            ]
        ) from exc
    if not isinstance(data, dict):
        raise PolicyErrors(
            [
                PolicyError(
                    path,
                    "",
                    "a policy file must be a YAML mapping with "
                    "id, title, version, ... and controls",
                    line=1,
                )
            ]
        )
    errors = list(_duplicate_keys(root, path))
    document: PolicyDocument | None = None
    try:
        document = PolicyDocument.model_validate(data)
    except ValidationError as exc:
        errors.extend(_errors_from(exc, path, root, PolicyDocument))
    raw_controls = data.get("controls")
    raw_calendars = data.get("calendars")
    calendars: Mapping[str, Any] = raw_calendars if isinstance(raw_calendars, dict) else {}
    params_by_index = {}
    for index, raw in enumerate(raw_controls if isinstance(raw_controls, list) else []):
        if isinstance(raw, dict):
            params, problems = _control_params(path, root, index, raw, calendars)
            errors.extend(problems)
            params_by_index[index] = params
    if errors or document is None:
        raise PolicyErrors(errors)
    controls = tuple(
        Control(spec, params_by_index[i], document.id)  # type: ignore[arg-type]
        for i, spec in enumerate(document.controls)
    )
    return Policy(path, hashlib.sha256(source).hexdigest(), document, controls, source)


def _control_params(
    path: Path,
    root: yaml.Node | None,
    index: int,
    raw: dict[str, Any],
    calendars: Mapping[str, Any],
) -> tuple[BaseModel | None, list[PolicyError]]:
    """Validate one control's `params` against its type; problems carry file and line."""
    loc: tuple[str | int, ...] = ("controls", index)
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        return None, []  # reported by the document model
    kind = control_type(type_name)
    if kind is None:
        close = difflib.get_close_matches(type_name, list(control_types()), n=1)
        return None, [
            PolicyError(
                path,
                _location((*loc, "type")),
                f"unknown control type '{type_name}'",
                line=_node_line(root, (*loc, "type")),
                hint=(f"did you mean '{close[0]}'? " if close else "")
                + "run `iso-social policy types` to list the installed control types",
            )
        ]
    raw_params = raw.get("params") or {}
    try:
        params = kind.params_model.model_validate(raw_params)
    except ValidationError as exc:
        return None, _errors_from(exc, path, root, kind.params_model, (*loc, "params"))
    for where, name in _calendar_names(params.model_dump(), ("params",)):
        if name != "always" and name not in calendars:
            return None, [
                PolicyError(
                    path,
                    _location((*loc, *where)),
                    f"unknown calendar '{name}'",
                    line=_node_line(root, (*loc, *where)),
                    hint="define it under `calendars:` or use 'always' for calendar time",
                )
            ]
    return params, []


def policy_files(location: Path) -> list[Path]:
    """The policy files at `location`: the file itself, or every YAML file in the folder."""
    if location.is_file():
        return [location]
    if location.is_dir():
        return sorted(p for p in location.iterdir() if p.suffix in POLICY_SUFFIXES)
    raise PolicyErrors(
        [
            PolicyError(
                location,
                "",
                "no such file or folder",
                hint="pass --policies DIR (the shipped set is in policies/)",
            )
        ]
    )


def _calendar_names(
    value: Any, where: tuple[str | int, ...]
) -> Iterable[tuple[tuple[str | int, ...], str]]:
    """Every calendar a control's parameters name, with its location."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "calendar" and isinstance(item, str):
                yield (*where, key), item
            else:
                yield from _calendar_names(item, (*where, str(key)))


def load_policies(locations: Iterable[Path]) -> list[Policy]:
    """Load every policy file; control ids must be unique across documents."""
    policies: list[Policy] = []
    errors: list[PolicyError] = []
    for location in locations:
        files = policy_files(location)
        if not files:
            errors.append(PolicyError(location, "", "no .yaml policy files in this folder"))
        for path in files:
            try:
                policies.append(load_policy(path))
            except PolicyErrors as exc:
                errors.extend(exc.errors)
    seen: dict[str, Path] = {}
    for policy in policies:
        if policy.document.id in {
            p.document.id for p in policies if p is not policy and p.path != policy.path
        }:
            errors.append(
                PolicyError(
                    policy.path,
                    "id",
                    f"policy id '{policy.document.id}' is used by another file too",
                    line=1,
                )
            )
        for control in policy.controls:
            if control.spec.id in seen:
                errors.append(
                    PolicyError(
                        policy.path,
                        "controls",
                        f"control id '{control.spec.id}' is already "
                        f"defined in {seen[control.spec.id]}",
                        hint="control ids are unique across all policy documents",
                    )
                )
            seen.setdefault(control.spec.id, policy.path)
    if errors:
        raise PolicyErrors(errors)
    return policies
