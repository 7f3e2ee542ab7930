"""``python -m bhxh.hrdata build ...``: an HR file into a dossier in the inbox."""

from bhxh.hrdata.cli import (
    command,
)

raise SystemExit(command())
