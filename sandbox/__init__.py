"""Local stand-ins for what cannot be reached from here: the signing providers with a
virtual phone, the submission gateway playing VSS, and a test PKI.

Real HTTP servers on 127.0.0.1 and real cryptography. May import: the standard library,
starlette/uvicorn, cryptography, lxml, and plain data from ``bhxh.catalogue``. Never
imports Prefect, ``esign`` (the provider plays the other side of that wire) or
``bhxh``'s signing code (the gateway verifies with its own code path).
"""
