"""The BHXH dossier domain: procedures, safe XML, the signature profile, signed PDF
attachments, envelopes, registration forms, the submission port and its adapters, the
crash-safe dossier store, and the pipeline (``bhxh.pipeline``): every step of a dossier,
the only code that knows where a step's files live in the store.

Plain Python. May import: the standard library, lxml, signxml, cryptography, httpx,
pydantic(-settings), pyHanko (``bhxh.signing``). Never imports Prefect, ``esign`` or
``sandbox``.
"""
