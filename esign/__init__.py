"""Remote-signing clients (MISA eSign RemoteSigning V2, VNPT SmartCA sp769).

Plain Python over async httpx. May import: the standard library, httpx, cryptography,
pydantic. Never imports Prefect, ``bhxh`` or ``sandbox``.
"""
