"""The provider-callback receiver: its own process (``python -m receiver``).

MISA's result webhook and Viettel MySign's callback protocol, each authenticated as its
document says (``receiver.app``); an accepted callback for an awaited transaction becomes
one Prefect event that wakes the waiting run (``tasks.callbacks``), which then asks the
provider itself. The receiver never touches the dossier store and never decides an
outcome: a forged callback can at most make a run read the provider early.
"""

from receiver.app import (
    MISA_PROVIDER,
    MYSIGN_PROVIDER,
    MYSIGN_TOKEN_SECONDS,
    ReceiverConfig,
    create_receiver_app,
)
from receiver.awaited import AwaitedTransactions, follow_approvals
from receiver.service import follow_approval_stream, serve_app

__all__ = [
    "MISA_PROVIDER",
    "MYSIGN_PROVIDER",
    "MYSIGN_TOKEN_SECONDS",
    "AwaitedTransactions",
    "ReceiverConfig",
    "create_receiver_app",
    "follow_approval_stream",
    "follow_approvals",
    "serve_app",
]
