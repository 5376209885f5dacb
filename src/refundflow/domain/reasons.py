"""Reason codes: why a customer wants their money back. Configurable data with two labels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from refundflow.domain.errors import InvalidInputError

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    label_zh: str
    label_en: str
    active: bool = True

    def __post_init__(self) -> None:
        if not CODE_PATTERN.match(self.code):
            raise InvalidInputError(
                f"reason code {self.code!r} must be lowercase letters, digits and underscores"
            )

    def label(self, lang: str) -> str:
        return self.label_en if lang.startswith("en") else self.label_zh
