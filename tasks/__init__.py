"""Thin Prefect tasks (verb_noun) over ``esign`` and ``bhxh``.

May import Prefect, ``blocks``, ``esign`` and ``bhxh``. No secret in a parameter or result.
"""
