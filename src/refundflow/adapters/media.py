"""Customers' photos: checked by their content (not their name), re-encoded (which drops
anything hidden in the file, EXIF location included) and stored under the media folder."""

from __future__ import annotations

import hashlib
import io
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from refundflow.domain.errors import InvalidInputError

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("jpg", "image/jpeg"),
}


class PhotoStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes) -> tuple[str, str, int, str]:
        """Store a photo; (relative path, content type, size, sha256) of what was written."""
        if not data or len(data) > MAX_BYTES:
            raise InvalidInputError("a photo is at most 8 MB", details={"field": "photos"})
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise InvalidInputError("that photo is too large", details={"field": "photos"})
                if kind not in FORMATS:
                    raise UnidentifiedImageError(kind)
                extension, content_type = FORMATS[kind]
                out = io.BytesIO()
                if content_type == "image/png":
                    image.save(out, format="PNG", optimize=True)
                else:
                    image.convert("RGB").save(out, format="JPEG", quality=85)
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise InvalidInputError(
                "that file is not a JPEG, PNG or WebP photo", details={"field": "photos"}
            ) from None
        encoded = out.getvalue()
        digest = hashlib.sha256(encoded).hexdigest()
        relative = f"{digest[:2]}/{secrets.token_hex(12)}.{extension}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(encoded)
        return relative, content_type, len(encoded), digest

    def path(self, relative: str) -> Path:
        resolved = (self.root / relative).resolve()
        if self.root.resolve() not in resolved.parents:
            raise InvalidInputError("bad photo path")
        return resolved
