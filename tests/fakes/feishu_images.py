"""The fake open API's image upload: ``POST /open-apis/im/v1/images`` as Feishu takes it.

A tenant token, a multipart form with ``image_type`` (``message`` or ``avatar``) and the
``image`` file; at most 10 MB and never empty, at most 12000 x 12000 pixels (4096 x 4096
for an avatar); the fake accepts only a real, complete PNG (``tests.fakes.png``), which is
all digestbot uploads. Answers use Feishu's codes: 234001 invalid parameter, 234006 too
large, 234010 empty, 234011 unrecognised format, 234039 resolution over the limit. Each
upload gets an ``img_v2_…`` key; the fake's card check refuses an ``img`` whose key it
never issued.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.png import check_png

if TYPE_CHECKING:
    from tests.fakes.feishu_api import FakeFeishuApi

IMAGE_LIMIT = 10 * 1024 * 1024
MAX_SIDE = {"message": 12000, "avatar": 4096}
INVALID, TOO_LARGE, EMPTY, BAD_FORMAT, TOO_WIDE = 234001, 234006, 234010, 234011, 234039


@dataclass(frozen=True)
class Upload:
    image_key: str
    image_type: str
    data: bytes
    size: tuple[int, int]
    filename: str


class FakeImages:
    """The images endpoint, its uploads and the keys it issued."""

    def __init__(self, api: FakeFeishuApi) -> None:
        self.api = api
        self.uploads: list[Upload] = []
        self._ids = itertools.count(1)

    @property
    def keys(self) -> set[str]:
        return {upload.image_key for upload in self.uploads}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/open-apis/im/v1/images", self.upload)

    async def upload(self, request: web.Request) -> web.StreamResponse:
        api = self.api
        api.record("im.image.create", {"content_type": request.content_type})
        fault = api.take_fault("im.image.create")
        if fault is not None:
            return api._fault(request, fault)
        if not api._authorized(request):
            return api._answer(99991663, "Invalid access token for authorization", 400)
        if request.content_type != "multipart/form-data":
            return api._answer(INVALID, "Invalid request param.", 400)
        form = await request.post()
        image_type, image = form.get("image_type"), form.get("image")
        if image_type not in MAX_SIDE or not isinstance(image, web.FileField):
            return api._answer(INVALID, "Invalid request param.", 400)
        data = image.file.read()
        if not data:
            return api._answer(EMPTY, "File's size can't be 0.", 400)
        if len(data) > IMAGE_LIMIT:
            return api._answer(TOO_LARGE, "The file size exceed the max value.", 400)
        try:
            size = check_png(data)
        except ValueError:
            return api._answer(BAD_FORMAT, "Can't regonnize the image format.", 400)
        if max(size) > MAX_SIDE[str(image_type)]:
            return api._answer(TOO_WIDE, "Image resolution exceeds limit.", 400)
        key = f"img_v2_{next(self._ids):04d}_{secrets.token_hex(4)}"
        with api._lock:
            self.uploads.append(Upload(key, str(image_type), data, size, image.filename))
        api.count("image_uploaded")
        return api._answer(0, "success", image_key=key)
