"""The browser pages (login, console, wallboard, agent view, reports): HTML shells, static files and
the zh-CN / English strings. The pages hold no data: their scripts call the JSON APIs and the hub."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
I18N = HERE / "i18n"

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "fieldline-lang"

# path, template: each page is a shell; its script decides by role what the person may see.
# Every page extends templates/_base.html (the document, the head, the desks' top bar).
PAGES = {
    "/": "console.html",
    "/login": "login.html",
    "/wallboard": "wallboard.html",
    "/agent": "agent.html",
    "/reports": "reports.html",
    "/mobile": "mobile.html",
}

# Scripts and styles only from this origin (nothing from a CDN, no inline script); the hub is
# same-origin ('self' covers ws:/wss: to this host in CSP level 3 browsers).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; media-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def negotiate_language(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the user's remembered choice, else the browser's preference
    (``Accept-Language`` with q-values; ``zh``, ``zh-Hans`` and ``zh-CN`` all mean zh-CN)."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
            return "zh-CN"
        if tag == "en" or tag.startswith("en-"):
            return "en"
        if tag == "*":
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def template_environment(root: Path = TEMPLATES) -> Environment:
    """Jinja2 over the page shells: a base layout (``_base.html``) that each page extends. The shells
    hold no data: they are rendered once per page and language when the app is built."""
    return Environment(loader=FileSystemLoader(root), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def render_template(name: str, root: Path = TEMPLATES, *, v: str = "", lang: str = DEFAULT_LANGUAGE) -> str:
    """The page shell ``name`` for language ``lang``, its asset URLs versioned with ``v``."""
    return template_environment(root).get_template(name).render(v=v, lang=lang)


def asset_version(root: Path = STATIC) -> str:
    """A short hash of the static files' names, sizes and times: appended to asset URLs so a
    deploy never mixes old scripts with new ones in a long-running kiosk browser."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:10]


@dataclass(frozen=True)
class PageSet:
    """The page shells, read once when the app is built (not at import)."""

    shells: dict[tuple[str, str], str]  # (path, language) -> the page
    strings: dict[str, bytes]
    version: str

    @classmethod
    def load(cls) -> PageSet:
        version = asset_version()
        env = template_environment()
        shells = {(path, lang): env.get_template(name).render(v=version, lang=lang)
                  for path, name in PAGES.items() for lang in LANGUAGES}
        strings = {}
        for lang in LANGUAGES:
            data = json.loads((I18N / f"{lang}.json").read_text("utf-8"))
            strings[lang] = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(shells=shells, strings=strings, version=version)

    def page(self, request: Request) -> Response:
        lang = negotiate_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
        html = self.shells[(request.url.path, lang)]
        return Response(html, media_type="text/html; charset=utf-8", headers={**PAGE_HEADERS,
                                                                              "Vary": "Accept-Language, Cookie"})

    def i18n(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        if lang not in self.strings:
            return Response(status_code=404)
        return Response(self.strings[lang], media_type="application/json",
                        headers={"Cache-Control": "public, max-age=300"})


class RevalidatedStatic(StaticFiles):
    """Static files a browser must revalidate (a cheap 304): ES modules import each other by plain
    URL, so a long-running kiosk must never mix a cached old module with a new one."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def console_redirect(request: Request) -> Response:
    return RedirectResponse("/", status_code=308)


def routes() -> list[BaseRoute]:
    pages = PageSet.load()

    async def page(request: Request) -> Response:
        return pages.page(request)

    async def i18n(request: Request) -> Response:
        return pages.i18n(request)

    return [
        *[Route(path, page, methods=["GET", "HEAD"], name=f"page-{name.removesuffix('.html')}")
          for path, name in PAGES.items()],
        Route("/console", console_redirect, methods=["GET"]),
        Route("/i18n/{lang}.json", i18n, methods=["GET"]),
        Mount("/static", app=RevalidatedStatic(directory=STATIC), name="static"),
    ]
