"""Our own channels to the debtor: e-mail over SMTP, PDF letters, phone tasks, and the hand-over dossier.

The outbox uses these when the accounting package cannot send a reminder itself (design.md: "Acts and writes
back"). Everything here renders from the Jinja templates in ``templates/<language>/`` (Dutch and English) and a
frozen :class:`~connector.channels.context.MessageContext`; only ``email.send_email`` does I/O (SMTP).
"""
