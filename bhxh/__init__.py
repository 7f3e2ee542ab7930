"""The BHXH dossier domain: procedures, safe XML, the signature profile, envelopes,
registration forms, the submission gateway client, the crash-safe dossier store, and the
pipeline (``bhxh.pipeline``): every step of a dossier, the only code that knows where a
step's files live in the store.

Plain Python. May import: the standard library, lxml, signxml, cryptography, httpx,
pydantic(-settings). Never imports Prefect, ``esign`` or ``sandbox``.
"""
