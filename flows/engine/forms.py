"""What the Prefect UI's run forms offer: closed choices, and no field an organizer must not touch.

A flow's Google-style docstring `Args:` section gives each field its description (Prefect
reads it); these types give the choices. `Clock` is the tests' clock override: the form
leaves it out (`SkipJsonSchema`), the flow still takes it when called as a function.
`X | SkipJsonSchema[None]` shows an optional field as its own type, not as "None or X".
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic.json_schema import SkipJsonSchema

#: the languages the post-event report is written in (flows.domain.report.LANGUAGES)
ReportLanguage = Literal["en", "zh", "ja"]
#: one default for the report's language, wherever a flow asks for it
REPORT_LANGUAGE: ReportLanguage = "en"

#: the clock, for tests and golden files; never in a deployment's form
Clock = SkipJsonSchema[dt.datetime | None]
