# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test creates its virtual environments without pip and bootstraps pip
with ``get-pip-<version>.py`` from https://ci-files.testing.ansible.com, cached
as ``~/.ansible/test/cache/get_pip_<version>.py``. Where that host cannot be
reached, scripts/ansible-test.sh saves this file under that name instead.

Like get-pip.py it runs pip from a wheel on ``sys.path`` -- here the wheel the
interpreter bundles for ``ensurepip`` -- as
``pip install --upgrade --force-reinstall <arguments>``, so the requested pip
(for example ``pip==25.2``) comes from the configured package index.
``--no-setuptools`` and ``--no-wheel`` are accepted (and ignored: nothing but
the requested packages is installed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import runpy
import sys


def main():
    import ensurepip  # pylint: disable=import-outside-toplevel

    bundled = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    if not bundled:
        sys.stderr.write("pip is unavailable: this Python has no bundled pip wheel (ensurepip/_bundled)\n")
        sys.exit(1)
    sys.path.insert(0, bundled[-1])
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    sys.argv = ["pip", "install", "--upgrade", "--force-reinstall"] + args
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
