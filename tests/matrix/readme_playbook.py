"""Run the README's "A first playbook" as a new user would, with a given ``ansible-playbook``.

``make test-matrix`` calls this with the oldest (2.16) and the newest ansible-core: the playbook is taken
from README.md as it is shipped, its file and vault variables are given as extra vars and its connection
comes only from its ``module_defaults`` (the address is added there: the README's playbook relies on the
public API's default). It runs twice against a fresh emulator with no ``AIR_API_*`` variable set: the first
run must release and share the image, the second must change nothing.

Usage: python readme_playbook.py /path/to/ansible-playbook
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from air_emulator.testing import DEMO_TOKEN, Emulator, write_random_file

REPO = Path(__file__).resolve().parents[2]
HEADING = "## A first playbook"


def readme_playbook() -> str:
    """The first ```yaml block after the README's "A first playbook" heading."""
    text = (REPO / "README.md").read_text()
    after = text.split(HEADING, 1)
    if len(after) != 2:
        raise SystemExit("README.md has no %r section" % HEADING)
    found = re.search(r"```yaml\n(.*?)```", after[1], re.S)
    if not found:
        raise SystemExit("README.md's %r section has no yaml block" % HEADING)
    return found.group(1)


def with_test_values(playbook: str, disk: Path) -> str:
    """The README's playbook with the emulator's address in module_defaults and the scratch disk as file."""
    token_line = re.search(r"^( +)api_token: .*$", playbook, re.M)
    if not token_line:
        raise SystemExit("the README's playbook sets no api_token in module_defaults")
    indent = token_line.group(1)
    playbook = playbook.replace(token_line.group(0),
                                token_line.group(0) + "\n" + indent + 'api_url: "{{ air_api_url }}"', 1)
    file_line = re.search(r"image_release_file: .*$", playbook, re.M)
    if not file_line:
        raise SystemExit("the README's playbook sets no image_release_file")
    return playbook.replace(file_line.group(0), "image_release_file: %s" % disk, 1)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    ansible_playbook = str(Path(argv[1]).absolute())
    version = subprocess.run([ansible_playbook, "--version"], capture_output=True, text=True,
                             check=True).stdout.split("\n")[0]
    with tempfile.TemporaryDirectory(prefix="readme-playbook-") as scratch, Emulator() as emulator:
        scratch = Path(scratch)
        disk = scratch / "cumulus-vx.qcow2"
        write_random_file(disk, 3 * 1024 * 1024)
        (scratch / "first.yml").write_text(with_test_values(readme_playbook(), disk))
        extra = {"air_api_url": emulator.url, "vault_air_token": DEMO_TOKEN,
                 "vault_image_password": "readme-Passw0rd"}
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIR_API_")}
        env.update(NVIDIA_AIR_CACHE_DIR=str(scratch / "cache"), ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_STDOUT_CALLBACK="default",
                   ANSIBLE_RETRY_FILES_ENABLED="false")
        for run, want_changed in (("first", True), ("second", False)):
            result = subprocess.run([ansible_playbook, "first.yml", "-e", json.dumps(extra)], cwd=scratch,
                                    env=env, capture_output=True, text=True, check=False)
            recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", result.stdout)
            changed = bool(recap) and int(recap.group(1)) > 0
            if result.returncode != 0 or not recap or recap.group(2) != "0" or changed != want_changed:
                sys.stdout.write(result.stdout[-6000:])
                sys.stderr.write(result.stderr[-3000:])
                print("error: the README's first playbook, %s run, with %s: rc %d, %s (expected %s)"
                      % (run, version, result.returncode, recap.group(0) if recap else "no PLAY RECAP",
                         "changes" if want_changed else "no change"), file=sys.stderr)
                return 1
        images = emulator.api("GET", "images", params={"name": "cumulus-vx"}).json()["results"]
        shares = emulator.api("GET", "images/shares").json()["results"]
        if [(i["version"], i["upload_status"], i["hash"]) for i in images] != [("5.16.0", "COMPLETE", _sha256(disk))]:
            print("error: after the README's playbook the emulator holds %r" % images, file=sys.stderr)
            return 1
        if [s["target_org"] for s in shares if s["image"] == images[0]["id"]] != ["partner-org"]:
            print("error: after the README's playbook the image's shares are %r" % shares, file=sys.stderr)
            return 1
    print("==> the README's first playbook released and shared the image, then changed nothing (%s)" % version)
    return 0


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
