"""Make a mail's HTML body harmless to show: no scripts, no remote loads, no navigation.

This is the second of three guards. The HTML is served from its own route with a Content
Security Policy that allows no script and no remote resource, inside an <iframe sandbox> with no
permissions; this pass also removes what those guards would only block (scripts, event handlers,
<meta refresh>, <base>, frames, forms, remote images and style sheets) so that a browser with a
gap in either guard still loads nothing. Links keep their target as a tooltip, not as a link.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

#: Elements dropped together with everything inside them.
_DROP_WITH_CONTENT = frozenset({"script", "noscript", "template", "iframe", "frame", "frameset", "object", "applet",
                                "embed", "svg", "math", "audio", "video", "canvas", "title"})
#: Elements dropped, their content kept.
_DROP_TAG = frozenset({"meta", "base", "link", "form", "input", "button", "select", "option", "textarea",
                       "html", "head", "body", "source", "track", "param", "portal"})
_VOID = frozenset({"area", "br", "col", "hr", "img", "wbr", "meta", "base", "link", "input", "source", "track", "param",
                   "embed"})
#: Attributes that load something or run something.
_URL_ATTRIBUTES = frozenset({"src", "srcset", "background", "poster", "lowsrc", "dynsrc", "action", "formaction",
                             "data", "codebase", "ping", "xlink:href", "longdesc", "cite", "manifest"})


def _safe_url(value: str) -> bool:
    return value.strip().lower().startswith("data:image/") and "svg" not in value.lower()


def _safe_style(value: str) -> bool:
    lowered = value.lower().replace("\\", "")
    return not any(word in lowered for word in ("url(", "expression(", "@import", "javascript:", "behavior:", "-moz-binding"))


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping: list[str] = []
        self.in_style = False

    def _attributes(self, attrs: list[tuple[str, str | None]]) -> str:
        kept: list[str] = []
        title_from_href: str | None = None
        for name, value in attrs:
            name = name.lower()
            value = value or ""
            if name.startswith("on") or name in ("srcdoc", "formtarget", "target", "http-equiv", "is"):
                continue
            if name == "href":
                title_from_href = value.strip() or None
                continue
            if name in _URL_ATTRIBUTES and not _safe_url(value):
                continue
            if name == "style" and not _safe_style(value):
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        if title_from_href and not any(k.startswith(" title=") for k in kept):
            kept.append(f' title="{html.escape(title_from_href, quote=True)}"')
        return "".join(kept)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self.dropping:
            if tag in _DROP_WITH_CONTENT and tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag in _DROP_WITH_CONTENT:
            if tag not in _VOID:
                self.dropping.append(tag)
            return
        if tag in _DROP_TAG:
            return
        self.in_style = tag == "style"
        self.out.append(f"<{tag}{self._attributes(attrs)}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if self.dropping or tag in _DROP_WITH_CONTENT or tag in _DROP_TAG:
            return
        self.out.append(f"<{tag}{self._attributes(attrs)}>")

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in _DROP_WITH_CONTENT or tag in _DROP_TAG or tag in _VOID:
            return
        if tag == "style":
            self.in_style = False
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        if self.in_style:
            # Style sheets are raw text, not HTML: kept as written unless they load anything,
            # and unable to close their element early.
            if _safe_style(data):
                self.out.append(data.replace("<", "\\3C "))
            return
        self.out.append(html.escape(data, quote=False))


def clean_html(source: str) -> str:
    """The HTML with everything that runs or loads removed; text and layout kept."""
    cleaner = _Cleaner()
    cleaner.feed(source)
    cleaner.close()
    return "".join(cleaner.out)
