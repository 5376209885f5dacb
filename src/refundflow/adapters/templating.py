"""Message templates rendered by Jinja2 in its sandbox: managers edit templates through the
API, so a template may read the context it is given and nothing else. Undefined names are
errors (a typo is refused when the template is saved, not found in a customer's inbox); the
HTML part escapes every value."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from refundflow.services.notifications.ports import TemplateRenderError


class JinjaTemplateRenderer:
    def __init__(self) -> None:
        self._text = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self._html = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
        self._compile = lru_cache(maxsize=512)(self._compile_uncached)

    def _compile_uncached(self, source: str, html: bool) -> Any:
        return (self._html if html else self._text).from_string(source)

    def render(self, source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
        try:
            return str(self._compile(source, html).render(**context))
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            where = f" (line {line})" if line else ""
            raise TemplateRenderError(f"{exc.message or type(exc).__name__}{where}") from None
