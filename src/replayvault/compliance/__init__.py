"""Compliance evidence computed from what the system did: the budget planner (more to come:
the five compliance metrics, the checklist and the auditor report, see DESIGN.md)."""
