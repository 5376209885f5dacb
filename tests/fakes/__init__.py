"""Local stand-ins for the payment gateways: real HTTP servers on 127.0.0.1 that speak each
gateway's wire protocol, verify our signatures, sign their answers with keys generated in
the test run, count refunds per idempotency key, and inject faults on demand."""
