"""The refund policy: a versioned, no-code rule document, its evaluator and its wording."""
