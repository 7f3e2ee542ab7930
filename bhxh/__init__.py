"""The BHXH dossier domain: procedures, safe XML, the signature profile, signed PDF
attachments, envelopes, registration forms, the submission gateway client and the
crash-safe dossier store.

Plain Python. May import: the standard library, lxml, signxml, cryptography, httpx,
pydantic(-settings), pyHanko (``bhxh.pdfsign``). Never imports Prefect, ``esign`` or
``sandbox``.
"""
