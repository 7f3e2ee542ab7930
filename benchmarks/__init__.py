"""Repeatable measurements (run by ``make bench``), never timed assertions.

May import everything in the project.
"""
