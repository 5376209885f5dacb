"""The business rules of refundflow in plain Python: no framework, no database, no I/O."""
