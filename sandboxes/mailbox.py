"""A local SMTP mailbox for ``dunning demo``: the e-mail channel's sandbox, as the provider sandboxes are for APIs.

It listens on 127.0.0.1 (aiosmtpd) and writes every message it receives to ``<folder>/<n>.eml``, so the demo
sends real SMTP and a person can open what the debtor would have received.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Store:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        with self.lock:
            number = len(list(self.folder.glob("*.eml"))) + 1
            (self.folder / f"{number:05d}.eml").write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


@dataclass
class Mailbox:
    controller: Controller
    folder: Path

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def messages(self) -> list[Message]:
        return [message_from_bytes(p.read_bytes()) for p in sorted(self.folder.glob("*.eml"))]

    def stop(self) -> None:
        self.controller.stop()


def start_mailbox(folder: Path, port: int = 0) -> Mailbox:
    controller = Controller(_Store(folder), hostname="127.0.0.1", port=port or _free_port())
    controller.start()
    return Mailbox(controller=controller, folder=folder)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
