# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Peak memory of an upload must not grow with the file size (parts are streamed)."""

from __future__ import annotations

import json
import subprocess
import sys

from air_emulator.testing import write_random_file
from air_unit_helpers import DEMO_TOKEN, MIB

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

url, token, name, path, cache = sys.argv[2:7]
def status(field):
    with open("/proc/self/status") as handle:
        return [int(line.split()[1]) for line in handle if line.startswith(field + ":")][0] * 1024

client = AirClient(api_url=url, api_token=token)
image = client.images.create({"name": name, "version": "1", "default_username": "u", "default_password": "pw-1234"})
client.images.get(image.id)
before = status("VmRSS")  # everything imported, connections open
image, stats = ImageUploader(client, workers=4, cache_dir=cache).upload(image, path, poll_interval=0.05)
print(json.dumps({"growth": status("VmHWM") - before, "status": image.upload_status,
                  "bytes": stats["bytes_uploaded"]}))
"""


def _peak_rss_of_upload(emulator, collections_path, tmp_path, size):
    local = write_random_file(tmp_path / ("%d.bin" % size), size)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, collections_path, emulator.url, DEMO_TOKEN, "mem-%d" % size, local.path,
         str(tmp_path / ("cache-%d" % size))],
        capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "COMPLETE" and result["bytes"] == size
    return result["growth"]


def test_peak_memory_does_not_grow_with_the_file(emulator, collections_path, tmp_path):
    # Both files keep all 4 workers busy (5 MiB parts): 21 MiB in 5 parts, 120 MiB in 24 parts.
    small = _peak_rss_of_upload(emulator, collections_path, tmp_path, 21 * MIB)
    large = _peak_rss_of_upload(emulator, collections_path, tmp_path, 120 * MIB)
    print("peak RSS growth during the upload: %.1f MiB (21 MiB file), %.1f MiB (120 MiB file)"
          % (small / MIB, large / MIB))
    # Streaming costs about one 1 MiB send block per worker; holding the parts in flight
    # (4 x 5 MiB) or the file itself would blow both limits.
    assert large < 16 * MIB, "the upload of 120 MiB grew the peak RSS by %.1f MiB" % (large / MIB)
    assert large - small < 4 * MIB, "peak RSS grew with the file: +%.1f MiB" % ((large - small) / MIB)
