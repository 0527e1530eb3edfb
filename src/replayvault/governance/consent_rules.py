"""A project's consent rules: what a TCF v2 TC string must allow, and whether Do Not Track counts.

Part of the project policy (``consent:`` section, see :mod:`replayvault.privacy.policy`)::

    consent:
      tcf_purposes: [1, 8, 10]   # TCF v2.2 purposes that must have consent (default 1, 8 and 10)
      tcf_vendor_id: null        # your IAB Global Vendor List id, if you have one: its consent is needed too
      honour_dnt: true           # Do Not Track (DNT: 1) means no recording, like Global Privacy Control

Global Privacy Control is always honoured (it is a valid opt-out under the CCPA regulations,
11 CCR § 7025) and cannot be switched off here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ConsentRules", "TCF_PURPOSES"]

#: Purposes of the TCF v2.2 policy (Appendix A): 1..11.
TCF_PURPOSES = range(1, 12)


class ConsentRules(BaseModel):
    """The ``consent`` section of a project policy (module docstring). Immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    #: TCF purposes (1..11) that must all have consent in the TC string; default 1 (store and/or access
    #: information on a device), 8 (measure content performance), 10 (develop and improve services).
    tcf_purposes: list[int] = Field(default_factory=lambda: [1, 8, 10], min_length=1, max_length=11)
    #: The site's vendor id in the IAB Global Vendor List (1..65535), or None (no vendor check).
    tcf_vendor_id: int | None = Field(default=None, ge=1, le=65535)
    honour_dnt: bool = True

    @field_validator("tcf_purposes")
    @classmethod
    def _purposes(cls, value: list[int]) -> list[int]:
        for p in value:
            if p not in TCF_PURPOSES:
                raise ValueError(f"TCF purpose {p} does not exist; TCF v2.2 purposes are 1-11")
        if len(set(value)) != len(value):
            raise ValueError("a TCF purpose is listed twice")
        return value
