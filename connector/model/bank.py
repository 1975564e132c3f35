"""The creditor's bank account the debtor transfers to when an invoice has no payment link of its own.

Pure: the holder's name, the IBAN (checked by the ISO 13616 mod-97 rule, stored without spaces, shown in groups of
four) and the BIC where known. The owner sets it per administration in the web app; the letters, e-mails and the
debtor's page all read it through ``connector.storage.repos.bank_details`` (docs/portal.md#paying).
"""

from __future__ import annotations

import enum
import re
import string
from dataclasses import dataclass

IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")
HOLDER_CHARS = 200


class BankProblem(enum.StrEnum):
    HOLDER = "holder"  # no name, or a very long one
    IBAN_SHAPE = "iban_shape"  # not two letters, two digits and 11 to 30 letters or digits
    IBAN_CHECK = "iban_check"  # the shape is right but the check digits are not
    BIC = "bic"  # not 8 or 11 letters and digits


class InvalidBankDetails(ValueError):
    def __init__(self, problems: dict[str, BankProblem]) -> None:
        super().__init__(", ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems  # form field -> what is wrong with it


@dataclass(frozen=True)
class BankDetails:
    holder: str
    iban: str  # compact: NL91ABNA0417164300
    bic: str | None = None

    @property
    def grouped(self) -> str:
        """The IBAN in groups of four, as printed on paper: NL91 ABNA 0417 1643 00."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))


def compact(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def iban_problem(text: str) -> BankProblem | None:
    """Why ``text`` is no IBAN, or None: the shape, then the mod-97 check over the rearranged digits."""
    iban = compact(text)
    if not IBAN_SHAPE.fullmatch(iban):
        return BankProblem.IBAN_SHAPE
    moved = iban[4:] + iban[:4]
    digits = "".join(str(string.ascii_uppercase.index(ch) + 10) if ch.isalpha() else ch for ch in moved)
    return None if int(digits) % 97 == 1 else BankProblem.IBAN_CHECK


def parse(holder: str, iban: str, bic: str) -> BankDetails:
    """Checked bank details from a form's three fields; raises ``InvalidBankDetails`` naming every bad field."""
    problems: dict[str, BankProblem] = {}
    name = " ".join(holder.split())
    if not name or len(name) > HOLDER_CHARS:
        problems["holder"] = BankProblem.HOLDER
    found = iban_problem(iban)
    if found is not None:
        problems["iban"] = found
    code = compact(bic)
    if code and not BIC_SHAPE.fullmatch(code):
        problems["bic"] = BankProblem.BIC
    if problems:
        raise InvalidBankDetails(problems)
    return BankDetails(holder=name, iban=compact(iban), bic=code or None)
