"""Rendering for our own channels to the debtor: e-mails, PDF letters, phone scripts, and the hand-over dossier.

Pure: the outbox (``connector.outbox.deliver``) renders with these when the accounting package cannot send a
reminder itself, and sends the result (SMTP is ``connector.outbox.smtp``). Everything here renders from the Jinja
templates in ``templates/<language>/`` (Dutch and English) and a frozen
:class:`~connector.channels.context.MessageContext`; nothing here sends, stores or reads a clock.
"""
