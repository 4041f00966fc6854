"""Pages that are not articles: bot challenges and pages with no article text.

Both must count as crawl failures, never be stored as empty articles. A challenge page is
recognised by the signatures below, taken from what the services serve (their titles, their
challenge scripts, their form ids):

- Cloudflare: title "Just a moment..." or "Attention Required! | Cloudflare", "Checking your
  browser before accessing", the ``cf_chl_opt``/``cf-browser-verification`` challenge markers;
- DDoS-Guard: "DDoS-Guard" in the title or its ``ddos-guard`` check page;
- Sucuri, Imperva/Incapsula: their firewall and ``_Incapsula_Resource`` pages;
- captchas (reCAPTCHA, hCaptcha, Turnstile) and "enable JavaScript/cookies to continue" pages.

Cloudflare and the captcha vendors also inject their scripts into ordinary article pages, and
an article may be about captchas, so a signature counts only when the page has little article
text.
"""

from __future__ import annotations

import re

# fewer characters of article text than this and the page holds no article
MIN_TEXT_CHARS = 80
# a page with at least this much article text is an article whatever scripts it carries
_CHALLENGE_MAX_TEXT = 500

_CHALLENGE_TITLES = re.compile(
    r"just a moment|attention required|checking your browser|ddos-guard|"
    r"access denied|verify(ing)? you are (a )?human|one more step|"
    r"security check|captcha|bot verification|are you a robot",
    re.I,
)
_CHALLENGE_MARKERS: dict[str, re.Pattern[str]] = {
    "cloudflare": re.compile(
        r"cf_chl_opt|cf-browser-verification|/cdn-cgi/challenge-platform/h/|"
        r"checking your browser before accessing|cf-turnstile",
        re.I,
    ),
    "ddos-guard": re.compile(r"ddos-guard|check\.ddos-guard\.net|__ddg", re.I),
    "sucuri": re.compile(r"sucuri website firewall|sucuri_cloudproxy", re.I),
    "incapsula": re.compile(r"_incapsula_resource|incapsula incident id", re.I),
    "captcha": re.compile(r"g-recaptcha|h-captcha|hcaptcha\.com/1/api|captcha-delivery", re.I),
    "javascript": re.compile(
        r"(enable|turn on) (javascript|cookies) (and cookies )?to continue|"
        r"requires? javascript to (be enabled|run|continue)",
        re.I,
    ),
}
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def bot_challenge(html: str, text_chars: int) -> str | None:
    """The name of the challenge this page is (e.g. "cloudflare"), or None.

    ``text_chars`` is the length of the article text extracted from the page."""
    if text_chars >= _CHALLENGE_MAX_TEXT:
        return None
    found = _TITLE.search(html[:20_000])
    if found and _CHALLENGE_TITLES.search(found.group(1)):
        return "title"
    return next((name for name, marker in _CHALLENGE_MARKERS.items() if marker.search(html)), None)
