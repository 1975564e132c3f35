"""Provider sandboxes: independent emulators of Xero, Exact Online and Moneybird, and the demo's SMTP mailbox.

Each ``sandboxes/<provider>/`` is a small stateful Flask app that behaves like the real provider on the wire
(OAuth, paging, limits, signed webhooks, write-back) so that tests, benchmarks and ``dunning demo`` talk real HTTP
to it exactly as the adapters talk to production. They import nothing from ``connector`` or ``adapters``: an
emulator written apart from the code it checks is what makes it a trustworthy check. ``runner.py`` serves them;
the same module names play the same role in every provider (app, state, seed, oauth, limits, api, writeback,
webhooks, render, query).
"""
