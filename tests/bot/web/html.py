"""Reading the reader's pages the way a person sees them (lxml, no string matching)."""

from __future__ import annotations

from urllib.parse import urlsplit

import lxml.html
from lxml.html import HtmlElement


def page(text: str) -> HtmlElement:
    return lxml.html.fromstring(text)


def items(doc: HtmlElement) -> list[HtmlElement]:
    return doc.cssselect("article.item")


def text_of(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def hrefs(doc: HtmlElement) -> list[str]:
    return [a.get("href") for a in doc.iter("a") if a.get("href") is not None]


def foreign_or_unsafe(doc: HtmlElement) -> list[str]:
    """Links that are neither the reader's own paths nor http(s) URLs."""
    bad = []
    for href in hrefs(doc):
        scheme = urlsplit(href).scheme
        if not (href.startswith("/") and not href.startswith("//")) and scheme not in (
            "http",
            "https",
        ):
            bad.append(href)
    return bad
