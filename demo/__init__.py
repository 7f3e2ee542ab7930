"""The demo scenario (units, sandbox accounts, blocks, inbox) and ``make demo``.

Shared by the demo, the flow tests and the benchmarks so that all three run the same
thing. May import everything in the project; nothing in the product imports it.
"""
