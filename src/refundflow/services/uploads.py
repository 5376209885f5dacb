"""Photos customers add to their request: at most six, checked and re-encoded by the store."""

from __future__ import annotations

from typing import Protocol

from refundflow.domain.actors import Actor
from refundflow.domain.errors import ConflictError, InvalidInputError
from refundflow.services.customer import _own
from refundflow.services.unit_of_work import UnitOfWorkFactory

MAX_PHOTOS = 6
MAX_BYTES = 8 * 1024 * 1024


class PhotoStorage(Protocol):
    def save(self, data: bytes) -> tuple[str, str, int, str]:
        """(relative path, content type, size, sha256) of the re-encoded photo."""


Saved = tuple[str, str, int, str]


def save_photos(store: PhotoStorage, photos: list[bytes]) -> list[Saved]:
    """Check and re-encode the photos (anything that is not a photo is refused)."""
    if not photos:
        raise InvalidInputError("add at least one photo", details={"field": "photos"})
    if len(photos) > MAX_PHOTOS:
        raise InvalidInputError(f"at most {MAX_PHOTOS} photos", details={"field": "photos"})
    return [store.save(data) for data in photos]


def attach_photos(uows: UnitOfWorkFactory, actor: Actor, ref: str, saved: list[Saved]) -> list[int]:
    with uows() as uow:
        request = _own(uow, actor, ref)
        if len(uow.portal.uploads(request.id)) + len(saved) > MAX_PHOTOS:
            raise ConflictError(f"a request holds at most {MAX_PHOTOS} photos")
        ids = [
            uow.portal.add_upload(
                request.id, request.customer_id, path, content_type, size, digest, uow.now()
            )
            for path, content_type, size, digest in saved
        ]
        uow.commit()
    return ids


def add_photos(
    uows: UnitOfWorkFactory, store: PhotoStorage, actor: Actor, ref: str, photos: list[bytes]
) -> list[int]:
    return attach_photos(uows, actor, ref, save_photos(store, photos))
