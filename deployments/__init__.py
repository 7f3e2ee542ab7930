"""Deployments: ``prefect.yaml`` (monthly cron, Asia/Ho_Chi_Minh) and a serve entry point.

May import ``flows``.
"""
