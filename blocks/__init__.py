"""Prefect blocks: provider credentials, the unit profile, gateway settings.

May import Prefect, ``esign`` and ``bhxh``. Registered through the
``prefect.collections`` entry point.
"""
