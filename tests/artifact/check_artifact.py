# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a built collection tarball for what a user of the artifact would trip over.

    python3 tests/artifact/check_artifact.py .cache/build/nvidia-air-0.1.0.tar.gz

Fails (exit 1, one line per finding) when the artifact
- carries development, test or CI paths (tests/, Makefile, .ci/, ...) or placeholder files (.gitkeep);
- has a link in a shipped Markdown or reStructuredText file that does not resolve inside the artifact, or
  that points outside the collection's own URLs (galaxy.yml: repository, homepage, documentation, issues)
  and the stable documentation sites in STABLE_URL_PREFIXES.
"""

import json
import posixpath
import re
import sys
import tarfile

# Paths of the repository that exist only for development (galaxy.yml build_ignore keeps them out).
DEV_PATH = re.compile(
    r"^(\.ci|\.venv|\.cache|\.git|\.github|collections|tests|benchmarks|demo|scripts|extensions|Makefile"
    r"|DEVELOPMENT\.md|requirements-dev\.txt|pytest\.ini|\.ansible-lint|\.gitignore)(/|$)|\.tar\.gz$")
PLACEHOLDERS = {".gitkeep", ".keep", ".placeholder"}

# Sites whose URLs outlive our releases; everything else must live under galaxy.yml's URLs.
STABLE_URL_PREFIXES = (
    "https://docs.nvidia.com/",
    "https://docs.ansible.com/",
    "https://docs.opendev.org/",
    "https://www.gnu.org/licenses/",
)

MD_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MD_REF = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
RST_LINK = re.compile(r"`[^`<]*<([^`>]+)>`__?")
MD_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")


def links(name, text):
    """Link targets in a Markdown or reStructuredText file (URLs in code, such as api_url values, are not links)."""
    found = set()
    if name.endswith(".md"):
        found.update(MD_LINK.findall(text))
        found.update(MD_AUTOLINK.findall(text))
        found.update(MD_REF.findall(text))
    elif name.endswith(".rst"):
        found.update(RST_LINK.findall(text))
    return sorted(found)


def allowed_prefixes(galaxy):
    prefixes = list(STABLE_URL_PREFIXES)
    for key in ("repository", "homepage", "documentation", "issues"):
        if galaxy.get(key):
            prefixes.append(galaxy[key].rstrip("/") + "/")
            prefixes.append(galaxy[key].rstrip("/"))
    return tuple(prefixes)


def check(tarball):
    findings = []
    with tarfile.open(tarball) as archive:
        members = {m.name[2:] if m.name.startswith("./") else m.name: m for m in archive.getmembers()}
        names = set(members)
        manifest = json.load(archive.extractfile(members["MANIFEST.json"]))
        prefixes = allowed_prefixes(manifest["collection_info"])
        for name in sorted(names):
            if DEV_PATH.search(name):
                findings.append("%s: development path in the artifact" % name)
            if posixpath.basename(name) in PLACEHOLDERS:
                findings.append("%s: placeholder file in the artifact" % name)
            if not name.endswith((".md", ".rst")) or not members[name].isfile():
                continue
            text = archive.extractfile(members[name]).read().decode("utf-8")
            for target in links(name, text):
                problem = check_link(name, target, names, prefixes)
                if problem:
                    findings.append("%s: link %s %s" % (name, target, problem))
    return findings


def check_link(name, target, names, prefixes):
    """None when the link resolves, else why not."""
    if target.startswith(("http://", "https://")):
        if target.startswith(prefixes):
            return None
        return "points outside the collection's URLs (galaxy.yml) and the stable sites"
    if target.startswith(("#", "mailto:")):
        return None
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):
        return "has a scheme that is not http(s)"
    path = posixpath.normpath(posixpath.join(posixpath.dirname(name), target.split("#", 1)[0]))
    if path in names or any(n.startswith(path + "/") for n in names):
        return None
    return "does not resolve inside the artifact"


def main(argv):
    if len(argv) != 2:
        print("usage: check_artifact.py TARBALL", file=sys.stderr)
        return 2
    findings = check(argv[1])
    for finding in findings:
        print("error: %s" % finding, file=sys.stderr)
    if findings:
        return 1
    print("==> %s: no development paths, placeholders or broken links" % argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
