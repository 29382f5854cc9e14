"""The ``air-emulator`` command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from air_emulator.testing import DEMO_TOKEN, Emulator
from airemu_helpers import assert_error, image_body

AIR_EMULATOR = os.path.join(os.path.dirname(sys.executable), "air-emulator")


def run(*args, tmp_path):
    return subprocess.run([AIR_EMULATOR, "--port", "0", "--data-dir", str(tmp_path / "data"), *args],
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("args, mentions", [
    (("--chunk-size", "100"), ["--chunk-size", "5242880"]),
    (("--org", "bad"), ["--org", "NAME=TOKEN"]),
    (("--org", "acme="), ["--org"]),
    (("--org", "acme=tok:image_fly"), ["image_fly"]),
    (("--org", "a=tok", "--org", "b=tok"), ["twice"]),
    (("--url-ttl", "0"), ["--url-ttl"]),
    (("--validation-delay", "-1"), ["--validation-delay"]),
])
def test_bad_settings_exit_2_with_a_clear_error(tmp_path, args, mentions):
    result = run(*args, tmp_path=tmp_path)
    assert result.returncode == 2, result
    assert result.stderr.startswith("air-emulator: error: "), result.stderr
    for word in mentions:
        assert word in result.stderr
    assert "Traceback" not in result.stderr and "listening" not in result.stdout


def test_data_dir_is_required(tmp_path):
    result = subprocess.run([AIR_EMULATOR, "--chunk-size", "100"], capture_output=True, text=True, timeout=30,
                            check=False)
    assert result.returncode == 2 and "--data-dir" in result.stderr


def test_org_option_defines_tokens_and_scopes():
    with Emulator("--org", "acme=tok:image_read", "--org", "acme=writer:air:image_write,read") as emu:
        headers = {"Authorization": "Bearer tok"}
        listed = requests.get(f"{emu.url}/api/v3/images/", headers=headers, timeout=10)
        assert listed.status_code == 200 and listed.json()["count"] == 0
        assert_error(emu.api("POST", "images", token="tok", json=image_body()), 403)
        created = emu.api("POST", "images", token="writer", json=image_body())
        assert created.status_code == 201 and created.json()["creator"].endswith("@acme.example.com")
        assert emu.api("GET", "images", token="tok").json()["count"] == 1  # same org
        assert_error(emu.api("GET", "images", token=DEMO_TOKEN), 401)  # defaults are replaced
        assert [o["name"] for o in emu.admin("GET", "orgs")] == ["acme"]


def test_announces_its_address_and_stops_cleanly_on_sigterm(tmp_path):
    proc = subprocess.Popen([AIR_EMULATOR, "--port", "0", "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        match = re.fullmatch(r"air-emulator listening on (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        assert requests.get(f"{match.group(1)}/_emulator/health/", timeout=10).json() == {"status": "ok"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert os.path.exists(tmp_path / "data" / "emulator.sqlite3")
