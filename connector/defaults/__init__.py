"""The data the connector ships with: default dunning policies and the Dutch statutory-interest table.

Package data, found with ``importlib.resources`` so that a checkout, an editable install and an installed wheel
all find the same files from any working directory. ``Settings.policies_dir`` and
``Settings.interest_rates_file`` default to these; a user's own files (``DUNNING_POLICIES_DIR``,
``DUNNING_INTEREST_RATES_FILE``, see ``config/example.env``) replace them. ``legal/README.md`` says where each
rate comes from and which rows are still to be checked.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _packaged(*parts: str) -> Path:
    # A wheel or checkout installs this package as plain files, so the resource is a real path on disk.
    return Path(str(files(__name__).joinpath(*parts)))


def policies_dir() -> Path:
    """The folder of the default policies (one YAML file per policy)."""
    return _packaged("policies")


def interest_rates_file() -> Path:
    """The dated table of Dutch statutory interest rates."""
    return _packaged("legal", "statutory_interest.yaml")
