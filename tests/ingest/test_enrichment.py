"""Real user agents classified as a person would: device type, browser, OS and the bot flag."""

from __future__ import annotations

import pytest

from ingest_service.enrichment import parse_user_agent

BROWSERS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",  # noqa: E501
        ("desktop", "Chrome", "Windows"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
        "Safari/537.36 Edg/120.0.2210.61",
        ("desktop", "Edge", "Windows"),
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        ("desktop", "Firefox", "Linux"),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "  # noqa: E501
        "Safari/605.1.15",
        ("desktop", "Safari", "Mac OS X"),
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Mobile/15E148 Safari/604.1",
        ("mobile", "Mobile Safari", "iOS"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
        "Mobile/15E148 Safari/604.1",
        ("tablet", "Mobile Safari", "iOS"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 "  # noqa: E501
        "Mobile Safari/537.36",
        ("mobile", "Chrome Mobile", "Android"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 "
        "Safari/537.36",
        ("tablet", "Chrome", "Android"),
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
        ("mobile", "Firefox Mobile", "Android"),
    ),
]

CRAWLERS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.71 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",  # noqa: E501
    "curl/8.4.0",
    "python-requests/2.31.0",
    "Wget/1.21.4",
]


@pytest.mark.parametrize(("user_agent", "expected"), BROWSERS, ids=[e[1] + ":" + e[2] for _, e in BROWSERS])
def test_browsers(user_agent, expected):
    info = parse_user_agent(user_agent)

    assert (info.device_type, info.browser, info.os) == expected
    assert info.is_bot is False


@pytest.mark.parametrize("user_agent", CRAWLERS)
def test_crawlers_are_bots(user_agent):
    info = parse_user_agent(user_agent)

    assert info.is_bot is True
    assert info.device_type == "bot"


@pytest.mark.parametrize("user_agent", [None, "", "   ", "x"])
def test_nothing_known_is_unknown(user_agent):
    info = parse_user_agent(user_agent)

    assert (info.device_type, info.browser, info.os, info.is_bot) == ("unknown", "unknown", "unknown", False)


def test_client_device_type_wins_and_bots_are_flagged_through_the_api(embedded_ingest):
    googlebot = CRAWLERS[0]
    embedded_ingest.post(
        "/api/analytics",
        {"events": [{"eventType": "PAGE_VIEW", "path": "/", "deviceType": "tv"}]},
    )
    embedded_ingest.post(
        "/api/analytics",
        {"events": [{"eventType": "PAGE_VIEW", "path": "/bot"}]},
        headers={"User-Agent": googlebot},
    )
    rows = {row["path"]: row for row in embedded_ingest.rows()}

    assert rows["/"]["device_type"] == "tv" and rows["/"]["browser"] == "Firefox"
    assert rows["/bot"]["is_bot"] is True and rows["/bot"]["user_agent"] == googlebot


def test_long_header_user_agent_is_truncated_not_refused(embedded_ingest):
    response = embedded_ingest.post(
        "/api/analytics",
        {"events": [{"eventType": "PAGE_VIEW", "path": "/"}]},
        headers={"User-Agent": "A" * 600},
    )

    assert response.json()["count"] == 1
    assert len(embedded_ingest.rows()[0]["user_agent"]) == 512
