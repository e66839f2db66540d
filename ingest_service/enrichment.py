"""User agent → device type, browser, OS and bot flag, with maintained libraries.

Browser, OS and device come from `ua-parser` (the uap-core rules, with its native accelerator when
installed); bots are what uap-core calls the `Spider` device or what `crawlerdetect`'s crawler list
matches. Parsing costs tens of microseconds, and real traffic repeats a few thousand user agents, so
results are cached per user-agent string.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import ua_parser
from crawlerdetect import CrawlerDetect

UNKNOWN = "unknown"

_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
        "Arch Linux",
        "Gentoo",
        "Mint",
        "Red Hat",
        "SUSE",
    }
)
_MOBILE_OS = frozenset(
    {
        "iOS",
        "Android",
        "Windows Phone",
        "BlackBerry OS",
        "KaiOS",
        "Tizen",
        "Firefox OS",
        "Symbian OS",
        "HarmonyOS",
        "webOS",
    }
)
_TABLET_DEVICES = frozenset({"iPad", "Kindle", "Kindle Fire", "Nexus 7", "Nexus 9", "Nexus 10"})


class UserAgentInfo(NamedTuple):
    device_type: str  # desktop | mobile | tablet | bot | unknown
    browser: str
    os: str
    is_bot: bool


@lru_cache(maxsize=1)
def _crawler_detect() -> CrawlerDetect:
    return CrawlerDetect()


def _family(part: object | None) -> str:
    family = getattr(part, "family", None)
    return family if family and family != "Other" else UNKNOWN


def _device_type(user_agent: str, device_family: str, os_family: str) -> str:
    if device_family in _TABLET_DEVICES or device_family.startswith(("Galaxy Tab", "SM-T")):
        return "tablet"
    if os_family == "Android":
        # Android phones announce "Mobile"; Android tablets do not (Google's documented rule).
        return "mobile" if "Mobile" in user_agent else "tablet"
    if os_family in _MOBILE_OS:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return UNKNOWN


@lru_cache(maxsize=8192)
def parse_user_agent(user_agent: str | None) -> UserAgentInfo:
    """Classify one user-agent string; `unknown` for whatever the parser does not know."""
    if not user_agent or not user_agent.strip():
        return UserAgentInfo(UNKNOWN, UNKNOWN, UNKNOWN, False)
    parsed = ua_parser.parse(user_agent)
    device_family = parsed.device.family if parsed.device else "Other"
    browser = _family(parsed.user_agent)
    os_family = _family(parsed.os)
    is_bot = device_family == "Spider" or _crawler_detect().isCrawler(user_agent)
    if is_bot:
        return UserAgentInfo("bot", browser, os_family, True)
    return UserAgentInfo(_device_type(user_agent, device_family, os_family), browser, os_family, False)
