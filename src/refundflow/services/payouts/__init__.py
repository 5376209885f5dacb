"""Payouts: money going back by each route, exactly once (issue 5).

- ``ports``: the ``PaymentGateway`` port and what crosses it;
- ``execution``: execute / retry / mark-refunded / mark-failed on a request (records and
  outbox rows in the request's transaction, the per-payment cap under the order's lock);
- ``delivery``: the worker's side: one gateway call per attempt, outcomes, backoff;
- ``callbacks``: gateway callbacks, deduplicated and matched to our records;
- ``bank``: bank-transfer payout batches (CSV out, result file in) and record-level marks;
- ``reconcile``: gateway statements matched against our records.
"""
