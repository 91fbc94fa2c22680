"""The pages' pure parts: language negotiation, the zh-CN and English strings (same keys, every
key the scripts and templates use exists), and no page loading anything from another origin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from supervisor_ui.pages import I18N, PAGES, STATIC, TEMPLATES, negotiate_language, render_template


@pytest.mark.parametrize(("cookie", "header", "expected"), [
    (None, None, "en"),
    (None, "", "en"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    (None, "zh", "zh-CN"),
    (None, "zh-Hans-CN", "zh-CN"),
    (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
    (None, "fr-FR,zh-CN;q=0.7,en;q=0.5", "zh-CN"),
    (None, "en;q=0.3,zh-CN;q=0.8", "zh-CN"),
    (None, "zh-CN;q=0,en", "en"),
    (None, "de, *;q=0.1", "en"),
    (None, "zh-CN;q=abc,en;q=0.5", "en"),
    ("en", "zh-CN", "en"),
    ("zh-CN", "en-US", "zh-CN"),
    ("klingon", "zh-CN", "zh-CN"),
])
def test_language_is_the_remembered_choice_else_the_browsers(cookie, header, expected):
    assert negotiate_language(cookie, header) == expected


def _strings() -> dict[str, dict[str, str]]:
    return {lang: json.loads((I18N / f"{lang}.json").read_text("utf-8")) for lang in ("en", "zh-CN")}


def test_both_languages_have_the_same_keys_and_placeholders():
    strings = _strings()
    assert strings["en"].keys() == strings["zh-CN"].keys()
    for key, english in strings["en"].items():
        assert set(re.findall(r"\{(\w+)\}", english)) == set(re.findall(r"\{(\w+)\}", strings["zh-CN"][key])), key
        assert english and strings["zh-CN"][key], key


def test_every_key_used_literally_by_the_scripts_and_templates_exists():
    keys = set(_strings()["en"])
    used: set[str] = set()
    for path in (STATIC / "js").rglob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9.-]+)["']""", path.read_text("utf-8")))
    for name in PAGES.values():
        used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', render_template(name)))
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - keys) == []


def test_the_pages_load_nothing_from_another_origin():
    for name in PAGES.values():
        html = render_template(name)
        assert not re.search(r"""(src|href)=["'](https?:)?//""", html), name
        assert "<script>" not in html and "style=" not in html, f"{name}: inline code is refused by the CSP"
    for path in (STATIC / "js").rglob("*.js"):
        assert not re.search(r"""from\s+["']https?://|import\(["']https?://""", path.read_text("utf-8")), path


def test_each_page_has_its_template():
    for name in PAGES.values():
        assert (TEMPLATES / name).is_file()
    assert Path(STATIC / "css" / "app.css").is_file()


def test_every_page_is_one_whole_document_from_the_base_template():
    for path, name in PAGES.items():
        html = render_template(name, v="V1")
        page = name.removesuffix(".html")
        assert html.startswith("<!doctype html>\n") and html.count("<html") == 1, name
        assert html.count("</head>") == html.count("<body") == html.count("</html>") == 1, name
        assert f'<title data-i18n="page.{page}">' in html and f'<body class="page-{page}' in html, name
        assert html.count('<script type="module"') == 1 and f"/static/js/pages/{page}.js?v=V1" in html, name
        assert "{%" not in html and html.count('id="main"') <= 1, name
        # The page's own file holds only its content: the document and the top bar live once.
        own = (TEMPLATES / name).read_text("utf-8")
        assert own.startswith('{% extends "_base.html" %}') and "<head>" not in own, name
        assert ('class="topbar"' in html) == (path in ("/", "/agent", "/reports")), name
        assert 'class="topbar"' not in own, name


def test_pages_render_per_language_with_versioned_assets():
    for name in PAGES.values():
        for lang in ("zh-CN", "en"):
            html = render_template(name, v="abc123", lang=lang)
            assert f'<html lang="{lang}">' in html and "?v=abc123" in html and "{{" not in html and "{%" not in html


def test_every_ui_route_is_documented():
    from supervisor_ui.ui_api import routes

    text = (Path(__file__).resolve().parents[2] / "docs" / "ui.md").read_text("utf-8")
    for route in routes:
        assert f"`{route.path}" in text, f"document {route.path} in docs/ui.md"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_white_text_on_every_state_and_level_colour_meets_wcag_aa():
    css = (STATIC / "css" / "app.css").read_text("utf-8")
    backgrounds = dict(re.findall(r"--(state-[a-z_]+|green|amber|red|grey|accent):\s*(#[0-9a-f]{6})", css))
    backgrounds |= {f"metric-{level}": colour for level, colour in
                    re.findall(r'\.metric\[data-level="(\w+)"\] \{ background: (#[0-9a-f]{6})', css)}
    assert len(backgrounds) >= 14, backgrounds
    weak = {name: round(contrast("#ffffff", colour), 2) for name, colour in backgrounds.items()
            if contrast("#ffffff", colour) < 4.5}
    assert weak == {}


def test_body_text_on_the_page_backgrounds_meets_wcag_aa():
    pairs = [("#111827", "#f4f6f9"), ("#4b5563", "#ffffff"), ("#4b5563", "#eef1f6"),  # desks: text, muted, lanes
             ("#f1f5f9", "#0b1220"), ("#a8b3c7", "#111a2e"), ("#e2e8f0", "#1a2540"),  # wallboard
             ("#991b1b", "#fee2e2"), ("#92400e", "#fef3c7"), ("#cbd5e1", "#0f172a")]  # errors, urges, nav
    assert [p for p in pairs if contrast(*p) < 4.5] == []


def test_the_focus_ring_stands_out_on_every_background():
    css = (STATIC / "css" / "app.css").read_text("utf-8")
    desks = re.search(r":root \{[^}]*--focus: (#[0-9a-f]{6})", css).group(1)
    wallboard = re.search(r"\.theme-dark \{[^}]*--focus: (#[0-9a-f]{6})", css).group(1)
    dialogs = re.search(r"\ndialog \{[^}]*--focus: (#[0-9a-f]{6})", css).group(1)
    pairs = [(desks, "#ffffff"), (desks, "#f4f6f9"), (dialogs, "#ffffff"),
             (wallboard, "#0b1220"), (wallboard, "#060b16"), (wallboard, "#111a2e")]
    assert [p for p in pairs if contrast(*p) < 3] == []  # WCAG 2.1 non-text contrast


def test_the_login_form_never_puts_the_password_in_a_url():
    html = render_template("login.html")
    assert '<form id="login-form" method="post"' in html  # a GET form clicked before the script ran would
    assert re.search(r'<button id="login-submit"[^>]* disabled>', html)  # enabled by the script once it handles it
