"""What every ``dunning`` command shares: the app, settings and runtime, the organisation, today, input parsing
and the one error handler.

Sits at the top of the flow: command modules (``connector.cli.<theme>``) parse their options with the helpers
here, call ``connector.services`` / ``queries`` / ``debtors`` and print through ``connector.cli.output``.
Anything a command raises ends in ``DunningGroup.main``, which turns it into one or two lines on stderr and an
exit status: 2 when the person must change something (usage, configuration, an unknown reference), 1 when the run
failed (a provider or the database unreachable, an unexpected error). ``--debug`` lets the traceback through.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click import exceptions as click_errors  # typer 0.29 vendors click; pinned in pyproject.toml
from typer.core import TyperGroup

from connector.errors import (
    ConfigurationError,
    ConnectorError,
    GarbageResponse,
    MalformedResponse,
    NotSupported,
    PermanentError,
    PolicyError,
    RateLimited,
    ReauthRequired,
    TransientError,
)
from connector.settings import Settings

if TYPE_CHECKING:
    from connector.runtime import Runtime

USAGE, FAILURE = 2, 1  # exit statuses: the person must change something / the run failed


class CliError(Exception):
    """A refusal the command line itself raises: what is wrong, what to do next, and the exit status."""

    def __init__(self, message: str, hint: str = "", code: int = USAGE) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


def fail(message: str, hint: str = "", code: int = USAGE) -> NoReturn:
    raise CliError(message, hint, code)


@dataclass
class _State:
    debug: bool = False
    verbose: int = 0


STATE = _State()


class DunningGroup(TyperGroup):
    """The root command: runs the command without click's standalone handling and reports any error itself."""

    def main(  # type: ignore[override]
        self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, **extra: Any
    ) -> Any:
        standalone = extra.pop("standalone_mode", True)
        global STATE
        STATE = _State()
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except click_errors.ClickException as exc:
            code = exc.exit_code
            where = getattr(getattr(exc, "ctx", None), "command_path", "dunning")
            _report(exc.format_message(), f"`{where} --help` shows how to use it")
        except typer.Abort:
            _report("aborted")
            code = FAILURE
        except Exception as exc:
            if STATE.debug:
                raise
            code, message, hint = explain(exc)
            _report(message, hint)
        if not standalone:
            return code
        sys.exit(code)


def _report(message: str, hint: str = "") -> None:
    lines = [f"error: {line}" for line in message.splitlines() or [""]] + ([hint] if hint else [])
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def _first_line(exc: BaseException, limit: int = 400) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def explain(exc: BaseException) -> tuple[int, str, str]:
    """Exit status, what is wrong and what to do next, for any error that reaches the command line."""
    if isinstance(exc, CliError):
        return exc.code, exc.message, exc.hint
    if isinstance(exc, PolicyError):
        return USAGE, f"invalid dunning policy: {_first_line(exc)}", "fix the policy file and run the command again"
    if isinstance(exc, ConfigurationError):
        return USAGE, _first_line(exc), ""
    if isinstance(exc, ReauthRequired):
        provider = exc.provider or "PROVIDER"
        return FAILURE, _first_line(exc), f"connect again with `dunning connect {provider}`"
    if isinstance(exc, RateLimited):
        until = f" after {exc.until:%Y-%m-%d %H:%M} UTC" if exc.until else " later"
        return FAILURE, f"the provider's rate limit was reached: {_first_line(exc)}", f"try again{until}"
    if isinstance(exc, MalformedResponse):
        return FAILURE, f"the provider answered something that is not JSON: {_first_line(exc)}", "try again later"
    if isinstance(exc, TransientError):
        return FAILURE, f"the provider could not be reached: {_first_line(exc)}", "try again in a few minutes"
    if isinstance(exc, GarbageResponse):
        return FAILURE, f"the provider answered something unexpected: {_first_line(exc)}", "try again later"
    if isinstance(exc, PermanentError | NotSupported):
        return USAGE, _first_line(exc), ""
    if isinstance(exc, ConnectorError):
        return FAILURE, _first_line(exc), ""
    database = _database_problem(exc)
    if database is not None:
        return database
    if isinstance(exc, OSError):
        return FAILURE, _first_line(exc), ""
    return (
        FAILURE,
        f"unexpected error ({type(exc).__name__}): {_first_line(exc)}",
        "run the command again with --debug to see where it happened",
    )


_MISSING_TABLE = re.compile(r"no such table|does not exist|UndefinedTable", re.IGNORECASE)


def _database_problem(exc: BaseException) -> tuple[int, str, str] | None:
    from connector.storage.db import DBAPIError, OperationalError, ProgrammingError

    if not isinstance(exc, DBAPIError):
        return None
    if isinstance(exc, OperationalError | ProgrammingError) and _MISSING_TABLE.search(str(exc.orig)):
        return USAGE, "the database has no tables yet (or an older schema)", "run `dunning db upgrade`"
    if isinstance(exc, OperationalError):
        return (
            FAILURE,
            f"cannot reach the database: {_first_line(exc.orig or exc)}",
            "is it running? DUNNING_DATABASE_URL says where it is",
        )
    return FAILURE, f"the database refused the operation: {_first_line(exc.orig or exc)}", ""


app = typer.Typer(
    cls=DunningGroup,
    help="dunning-connector: credit management for Xero, Exact Online and Moneybird.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback when something fails.")] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Log more: -v what happens, -vv every detail.")
    ] = 0,
) -> None:
    STATE.debug, STATE.verbose = debug, verbose


# --- settings, runtime, organisation, today ---------------------------------------------------------------


def settings(*, service: bool = False) -> Settings:
    """Settings from the environment, with logging set up: quiet (warnings) on the console unless -v / -vv or
    DUNNING_LOG_LEVEL ask for more; JSON lines for the long-running services (``serve``, ``worker``)."""
    from connector.logging import configure_logging

    loaded = checked_settings()
    if STATE.verbose:
        level = "DEBUG" if STATE.verbose > 1 else "INFO"
    elif service or "log_level" in loaded.model_fields_set:
        level = loaded.log_level
    else:
        level = "WARNING"
    configure_logging(level, json=service or loaded.log_json)
    return loaded


def checked_settings() -> Settings:
    """Settings from the environment, refused before anything starts when one is unusable: every problem on a line
    of its own, exit status 2, no traceback (docs/operations.md#settings-checked-at-start)."""
    from pydantic import ValidationError

    try:
        loaded = Settings()
    except ValidationError as exc:
        lines = [_invalid_setting(error) for error in exc.errors(include_input=False, include_url=False)]
        fail("\n".join(lines))
    problems = loaded.problems()
    if problems:
        fail("\n".join(problems))
    return loaded


def _invalid_setting(error: Any) -> str:
    name = "DUNNING_" + "__".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int)).upper()
    reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{name} is not valid: {reason[:120]}"


def runtime(loaded: Settings | None = None, *, reads_only: bool = False) -> Runtime:
    """The wired-up connector. A command that only reads takes no share of the providers' rate budget (and so
    creates no budget file); every command needs a database that exists: none is made on the side."""
    from connector.runtime import Runtime

    loaded = loaded or settings()
    require_database(loaded)
    return Runtime(loaded, budget_url="memory://" if reads_only else None)


def require_database(loaded: Settings) -> None:
    url = loaded.database_url
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1]
        if path and path != ":memory:" and not Path(path).exists():
            fail(
                f"no database here yet ({path})",
                "run `dunning demo` to try the connector, or `dunning db upgrade` to set it up",
            )


Org = Annotated[
    str | None,
    typer.Option("--org", help="Organisation name; may be left out when there is only one (or set DUNNING_ORG)."),
]


def organisation(rt: Runtime, name: str | None) -> int:
    """The organisation a command acts for: ``--org``, else DUNNING_ORG, else the only one there is. Never creates
    one; when the choice is unclear the error lists the names to choose from."""
    from connector.services import choose_organisation

    return choose_organisation(rt, name)


def today(rt: Runtime, org_id: int) -> date:
    """Today in the organisation's time zone, by the runtime's clock."""
    return rt.today(org_id)


# --- input ------------------------------------------------------------------------------------------------


def parse_date(value: str | None, option: str) -> date | None:
    """``YYYY-MM-DD`` (ISO 8601), or None when the option was left out."""
    if value is None or value == "":
        return None
    return required_date(value, option)


def required_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} {value!r} is not a date", "write it like 2026-01-31")


_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d+)?$")


def parse_amount(value: str, option: str, *, allow_negative: bool = False) -> Decimal:
    """An amount as a person types it: ``1250``, ``1250.00`` or with the Dutch decimal comma ``1250,00``; at most
    two decimals (refused, never rounded); no thousands separators."""
    text = value.strip()
    hint = "write it like 1250.00 or 1250,00"
    if not _AMOUNT.match(text):
        fail(f"{option} {value!r} is not an amount", hint)
    amount = Decimal(text.replace(",", "."))
    if -amount.as_tuple().exponent > 2:  # type: ignore[operator]
        fail(f"{option} {value!r} has more than two decimals", hint)
    if amount < 0 and not allow_negative:
        fail(f"{option} {value!r} is negative", hint)
    return amount


def parse_choice(value: str, option: str, choices: list[str] | tuple[str, ...]) -> str:
    if value not in choices:
        fail(f"{option} {value!r} is not one of {', '.join(choices)}")
    return value
