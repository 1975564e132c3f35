"""The demo's SMTP mailbox: what our e-mail channel sends over real SMTP lands as one .eml file per message."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from sandboxes.mailbox import start_mailbox


def test_messages_arrive_in_order_and_survive_a_restart(tmp_path: Path) -> None:
    mailbox = start_mailbox(tmp_path / "mailbox")
    try:
        for number in (1, 2):
            message = EmailMessage()
            message["From"] = "debiteuren@example.nl"
            message["To"] = "klant@example.nl"
            message["Subject"] = f"Herinnering {number}"
            message.set_content("Factuur 2026-0001 staat nog open.")
            with smtplib.SMTP("127.0.0.1", mailbox.port, timeout=10) as smtp:
                smtp.send_message(message)
        assert [m["Subject"] for m in mailbox.messages()] == ["Herinnering 1", "Herinnering 2"]
    finally:
        mailbox.stop()
    assert sorted(p.name for p in (tmp_path / "mailbox").iterdir()) == ["00001.eml", "00002.eml"]
    again = start_mailbox(tmp_path / "mailbox")
    try:
        assert len(again.messages()) == 2, "a new mailbox on the same folder shows what was received before"
    finally:
        again.stop()
