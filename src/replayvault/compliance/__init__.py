"""Compliance evidence computed from what the system did: the five compliance metrics
(:mod:`.metrics`), the checklist (:mod:`.checklist`), SIEM/GRC feeds and webhook
(:mod:`.integration`, :mod:`.webhook`), Prometheus metrics (:mod:`.prometheus`) and the budget
planner (:mod:`.budget`). The auditor report is still to come (DESIGN.md)."""
