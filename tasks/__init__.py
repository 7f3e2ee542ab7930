"""Thin Prefect tasks (verb_noun) over ``esign`` and ``bhxh.pipeline``.

``session``: a unit's signing session (provider and gateway clients, its pipeline), owned
by one ``async with``; ``signing``: log in, certificates, signing requests; ``dossiers``:
the pipeline's steps as task runs (one per unit and step); ``companies``: a firm's
companies read, checked (a login) and saved as linked blocks; ``crash``: the test hook of the
crash-point suite; ``_unwalked``: ``unit_task``, the decorator of a unit's tasks (their
arguments handed over in ``quote``, unwalked by Prefect). May import Prefect, ``blocks``,
``esign`` and ``bhxh``. No secret in a parameter or result, except the one-time code
handed to ``login_esign`` as a SecretStr and the credentials block handed in memory to
``check_signing_account`` / ``save_companies``.
"""
