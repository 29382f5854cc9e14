# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extract the collections tests/ansible needs (tests/ansible/requirements-collections.txt) into a directory.

The community ``ansible`` package is downloaded (pinned, no dependencies, pip's cache) and only the collections
named in COLLECTIONS are unpacked from it into ``<target>/ansible_collections/``; a target that already holds
them for the same pin is left as it is. Usage: test-collections.py REQUIREMENTS TARGET
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

COLLECTIONS = ("ansible/posix",)


def main(requirements, target):
    stamp = os.path.join(target, ".requirements")
    with open(requirements) as handle:
        wanted = handle.read()
    if os.path.exists(stamp):
        with open(stamp) as handle:
            if handle.read() == wanted:
                return 0
    with tempfile.TemporaryDirectory() as download:
        subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q", "--no-deps",
                        "--only-binary", ":all:", "-d", download, "-r", requirements], check=True)
        (wheel,) = [os.path.join(download, name) for name in os.listdir(download) if name.endswith(".whl")]
        shutil.rmtree(target, ignore_errors=True)
        prefixes = tuple("ansible_collections/%s/" % name for name in COLLECTIONS)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target, [name for name in archive.namelist() if name.startswith(prefixes)])
    with open(stamp, "w") as handle:
        handle.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
