"""Seed 004's alerts (SPEC §11) as Prometheus rules: valid, unit-tested with promtool, and every
metric they read is one the service exposes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "ingest_service" / "deploy" / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: run `bash .ci/ensure-promtool.sh` (Debian's prometheus package)")
    return subprocess.run([promtool, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120)


def test_the_rules_are_valid_and_pass_their_unit_tests():
    checked = _promtool("check", "rules", "alerts.yml")
    tested = _promtool("test", "rules", "alerts_test.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_every_metric_the_rules_read_is_exposed(embedded_ingest):
    embedded_ingest.post(
        "/api/analytics", {"events": [{"eventType": "PAGE_VIEW", "path": "/"}, {"path": "/"}]}
    )
    exposed = set(re.findall(r"^# TYPE (\S+) ", embedded_ingest.client.get("/metrics").text, re.MULTILINE))
    exposed |= {f"{name}_total" for name in exposed} | {f"{name}_bucket" for name in exposed}

    read = set(re.findall(r"\b(ingest_[a-z_]+)", (RULES_DIR / "alerts.yml").read_text()))

    assert read, "the rules read the service's metrics"
    assert read <= exposed, read - exposed
    for alert in (
        "IngestFailedEventRateHigh",
        "IngestLatencyP99High",
        "IngestStorageWriteLatencyHigh",
        "IngestStorageGrowthHigh",
    ):
        assert f"alert: {alert}" in (RULES_DIR / "alerts.yml").read_text()
