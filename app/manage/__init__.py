"""Managers' settings: the SLA table and team webhooks."""
