"""Compliance evidence computed from what the system did: the five compliance metrics
(:mod:`.metrics`), the checklist (:mod:`.checklist`), SIEM/GRC feeds and webhook
(:mod:`.integration`, :mod:`.webhook`), Prometheus metrics (:mod:`.prometheus`), the auditor report
(:mod:`.report`: HTML, and PDF printed by headless Chromium) and the budget planner (:mod:`.budget`)."""
