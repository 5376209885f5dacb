"""Outgoing webhooks over HTTP."""
