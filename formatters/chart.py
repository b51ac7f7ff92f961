"""Line charts as PNG bytes (matplotlib, Agg): what a trends reply shows as a picture.

Formatters do no I/O: this draws into memory and returns the bytes; each platform adapter
uploads them its own way (Slack ``files_upload_v2``, Telegram ``sendPhoto``). Chinese tag
names need a CJK font: the first of ``CJK_FONTS`` that matplotlib can find is used;
without one, a chart whose labels need it is not drawn (the text answer stands alone) and
a warning is logged once. Font files installed after matplotlib cached its font list
are found by one rescan before that warning.
"""

from __future__ import annotations

import functools
import io
import logging
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

WIDTH, HEIGHT, DPI = 1200, 600, 100
#: Fonts with Chinese glyphs, best first (Debian: fonts-noto-cjk).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Noto Serif CJK SC",
)
FALLBACK_FONT = "DejaVu Sans"
#: Line colours (matplotlib's tab10), distinct for colour-blind readers too with markers.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


@functools.cache
def cjk_font() -> str | None:
    """The CJK font family to draw with, or None (warned about once, on first use)."""
    from matplotlib import font_manager

    family = find_cjk_font(font_manager.fontManager, font_manager.findSystemFonts)
    if family is None:
        log.warning(
            "no CJK font found (install Debian's fonts-noto-cjk): charts with Chinese tag "
            "names are answered as text only"
        )
    return family


def find_cjk_font(manager: Any, system_fonts: Callable[[], list[str]]) -> str | None:
    """The first of ``CJK_FONTS`` that ``manager`` knows, after one rescan of the system's
    CJK font files if none is known: matplotlib's cached font list is not refreshed when
    fonts-noto-cjk is installed later (as the warning asks)."""
    for rescan in (False, True):
        if rescan:
            _add_new_cjk_files(manager, system_fonts())
        available = {font.name for font in manager.ttflist}
        for name in CJK_FONTS:
            if name in available:
                return name
    return None


def _add_new_cjk_files(manager: Any, paths: list[str]) -> None:
    known = {font.fname for font in manager.ttflist}
    for path in paths:
        lowered = path.lower()
        if path not in known and any(mark in lowered for mark in ("cjk", "wqy", "sourcehan")):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError) as exc:
                log.debug("skipping font file %s: %s", path, exc)


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has characters a Latin font cannot draw (CJK, kana, hangul)."""
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def line_chart_png(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    y_label: str,
) -> bytes | None:
    """A ``WIDTH``×``HEIGHT`` PNG with one line per series, or None when there is nothing
    to draw or the labels need a CJK font that is missing."""
    if not x_labels or not series:
        return None
    texts = [title, y_label, *x_labels, *(name for name, _ in series)]
    family = cjk_font()
    if family is None and any(needs_cjk(text) for text in texts):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    font = FontProperties(family=[family, FALLBACK_FONT] if family else [FALLBACK_FONT])
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(x_labels)))
    for index, (name, counts) in enumerate(series):
        axes.plot(
            positions,
            list(counts),
            label=name,
            color=COLOURS[index % len(COLOURS)],
            marker=MARKERS[index % len(MARKERS)],
            linewidth=2.5,
            markersize=7,
            clip_on=False,
        )
    axes.set_xticks(positions, list(x_labels), fontproperties=font)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0, top=max(1, *(max(counts, default=0) for _, counts in series)) * 1.1)
    axes.margins(x=0.03)
    axes.set_ylabel(y_label, fontproperties=font)
    axes.set_title(title, fontproperties=font.copy(), fontsize=15, loc="left")
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(prop=font, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
