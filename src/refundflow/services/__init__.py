"""Use cases: each function takes a unit of work and plain arguments, does one business action
in one transaction, and returns domain objects or plain views."""
