"""The Xero sandbox: see ``app.py`` (``create_app``) and ``state.py`` (the emulator's books)."""
