"""Policy files: YAML in a folder (the packaged ``connector/defaults/policies/`` or ``DUNNING_POLICIES_DIR``) →
validated ``Policy`` objects, and the per-invoice policy choice.

The only I/O in ``connector.rules``: reading a path the caller names. Errors become ``PolicyError`` naming the
file, the line and the field, by walking the composed YAML node tree (which keeps line marks) along the location
pydantic reports. ``select_policy`` applies the precedence invoice override → debtor override → segment default
(OCA policy precedence, docs/credit-management.md#policies-per-segment).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connector.errors import ConfigurationError, PolicyError
from connector.model import Segment
from connector.rules.policy import CHECK_RULES, Loc, Policy, PolicyRuleViolation, policy_problems
from connector.rules.snapshot import InvoiceSnapshot


def load_policy(path: Path | str, templates: Collection[str] | None = None) -> Policy:
    """Read and validate one policy file; raise ``PolicyError`` (file, line, field) when it is invalid. With
    ``templates`` (the template sets the channels can render), a level naming any other template is invalid too."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file: {exc.strerror}", file=file) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PolicyError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", file=file, line=line) from exc
    if not isinstance(data, dict) or root is None:
        raise PolicyError("a policy file must be a YAML mapping", file=file, line=1)
    _reject_duplicate_keys(root, file)
    return validate_policy(data, templates, file=file, root=root)


def validate_policy(
    data: Mapping[str, Any],
    templates: Collection[str] | None = None,
    *,
    file: str | None = None,
    root: yaml.Node | None = None,
) -> Policy:
    """The one validator of a policy document (a YAML file's mapping, or the browser editor's form): the ``Policy``,
    or ``PolicyError`` naming the field (and, with the YAML ``root``, the line) of the first problem."""
    problems = policy_field_problems(data, templates)
    if problems:
        loc, message = problems[0]
        extra = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        line = line_of(root, loc) if root is not None else None
        raise PolicyError(message + extra, file=file, line=line, field=format_loc(loc))
    return Policy.model_validate(data)


def policy_field_problems(data: Mapping[str, Any], templates: Collection[str] | None = None) -> list[tuple[Loc, str]]:
    """Every problem of a policy document as (location, message), first one first: the field errors pydantic finds,
    then (when the fields are sound) every cross-field rule of ``policy_problems``, then unknown templates."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[Loc, str]] = []
        for error in exc.errors():
            loc: Loc = tuple(error["loc"])
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, PolicyRuleViolation):
                # the model validator stops at the first rule; list them all from the fields it was given
                return _rule_problems(data)
            problems.append((loc, str(error["msg"])))
        return problems
    found: list[tuple[Loc, str]] = []
    for index, level in enumerate(policy.levels):
        if templates is not None and level.template not in templates:
            found.append(
                (
                    ("levels", index, "template"),
                    f"unknown template '{level.template}': choose one of {', '.join(sorted(templates))}",
                )
            )
    return found


def _rule_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    sound_fields = Policy.model_validate(data, context={CHECK_RULES: False})
    return [(problem.loc, str(problem)) for problem in policy_problems(sound_fields)]


def load_policies(directory: Path | str, templates: Collection[str] | None = None) -> dict[str, Policy]:
    """Every ``*.yaml`` policy in ``directory`` by policy name; duplicate names are an error, and so are a missing
    folder and a folder without policies (nothing would ever be chased, silently)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigurationError(f"the policies folder {folder} does not exist: set DUNNING_POLICIES_DIR to a folder")
    paths = sorted(folder.glob("*.y*ml"))
    if not paths:
        raise ConfigurationError(
            f"no policy files (*.yaml) in {folder}: add one or point DUNNING_POLICIES_DIR elsewhere"
        )
    policies: dict[str, Policy] = {}
    for path in paths:
        policy = load_policy(path, templates)
        if policy.name in policies:
            raise PolicyError(f"policy name '{policy.name}' used twice", file=str(path), field="name")
        policies[policy.name] = policy
    return policies


def select_policy(
    snapshot: InvoiceSnapshot,
    policies: Mapping[str, Policy],
    defaults: Mapping[Segment, str] | None = None,
) -> Policy:
    """The policy for one invoice: invoice override, then debtor override, then the segment default.

    The segment default is ``defaults[segment]`` when given, else the policy named after the segment (``b2b``,
    ``b2c``), else the only policy of that segment. An unknown segment means consumer
    (docs/law.md#engine-rules-for-costs-and-interest). Raises ``PolicyError`` for an unknown override or when no default
    can be found.
    """
    for override in (snapshot.invoice_policy, snapshot.debtor_policy):
        if override:
            if override not in policies:
                raise PolicyError(f"unknown policy override '{override}' on invoice {snapshot.invoice_ref}")
            return policies[override]
    segment = snapshot.legal_segment
    if defaults and segment in defaults:
        if defaults[segment] not in policies:
            raise PolicyError(f"default policy '{defaults[segment]}' for segment {segment.value} is not loaded")
        return policies[defaults[segment]]
    if segment.value in policies:
        return policies[segment.value]
    candidates = [policy for policy in policies.values() if policy.segment is segment]
    if len(candidates) == 1:
        return candidates[0]
    raise PolicyError(f"no default policy for segment {segment.value} ({len(candidates)} candidates)")


def format_loc(loc: Loc) -> str:
    """``('levels', 2, 'days')`` → ``levels[2].days``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(root: yaml.Node, loc: Loc) -> int:
    """1-based line of the deepest YAML node along ``loc`` (the key line for a missing or extra field)."""
    node: yaml.Node = root
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if str(key.value) == str(part):
                child_value: yaml.Node = value
                return child_value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


def _reject_duplicate_keys(node: yaml.Node, file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise PolicyError("duplicate key", file=file, line=int(key.start_mark.line) + 1, field=name)
            seen.add(name)
            _reject_duplicate_keys(value, file)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _reject_duplicate_keys(item, file)
