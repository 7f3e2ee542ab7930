"""The BHXH dossier domain: procedures, safe XML, the signature profile, envelopes,
registration forms, the submission gateway client and the crash-safe dossier store.

Plain Python. May import: the standard library, lxml, signxml, cryptography, httpx,
pydantic(-settings). Never imports Prefect, ``esign`` or ``sandbox``.
"""
