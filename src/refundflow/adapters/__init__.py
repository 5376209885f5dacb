"""The outside world behind small interfaces: database, gateways, channels, webhooks."""
