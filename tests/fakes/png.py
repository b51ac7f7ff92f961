"""What the fakes accept as an uploaded image: a real, complete PNG (both platforms)."""

from __future__ import annotations

import io

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(data: bytes) -> tuple[int, int]:
    """The image's (width, height); ValueError naming the problem unless it is a PNG that
    Pillow can fully decode."""
    from PIL import Image, UnidentifiedImageError

    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG (bad signature)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"not a PNG ({image.format})")
            image.load()  # decodes every chunk: a truncated file fails here
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"broken PNG: {exc}") from exc
