"""Accuracy of the emulator's WAN model (--storage-connection-rate, --storage-link-rate, --storage-latency); not a test.

Starts its own emulators (loopback, temporary data dirs) and times raw part PUTs
(requests, a streaming file body, as the SDK sends them) against what the model
says they should take:

  connection  one 100 MB part at --storage-connection-rate 20        -> 5.000 s
  link        4 parallel 50 MB parts at --storage-link-rate 40        -> 5.000 s
  latency     a 1-byte part with --storage-latency 30 (request + answer) -> 0.060 s more than without

Prints each run, the median and its error in per cent.

    .venv/bin/python benchmarks/emulator_wan.py [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "air_emulator", "src"))
from air_emulator.testing import Emulator  # noqa: E402

MB = 1_000_000


class Body:
    """A streaming request body of ``size`` bytes from ``path`` (requests sends it in blocks)."""

    def __init__(self, path: str, size: int) -> None:
        self.file = open(path, "rb", buffering=0)
        self.left = size

    def __len__(self) -> int:
        return self.left

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.file.read(n)
        self.left -= len(data)
        return data


def part_urls(emu: Emulator, size: int, parts: int) -> list[str]:
    """An image with an upload of ``parts`` parts of ``size`` bytes (never completed: only the PUTs count)."""
    created = emu.api("POST", "images", json={"name": f"wan-{time.time_ns()}", "version": "1",
                                              "default_username": "u", "default_password": "p"})
    created.raise_for_status()
    plan = emu.api("PATCH", f"images/{created.json()['id']}/start-upload",
                   json={"hash": "0" * 64, "size": size * parts})
    plan.raise_for_status()
    return [p["url"] for p in plan.json()["part_urls"]]


def put(url: str, path: str, size: int) -> float:
    started = time.perf_counter()
    body = Body(path, size)
    try:
        response = requests.put(url, data=body, timeout=120)
    finally:
        body.file.close()
    response.raise_for_status()
    return time.perf_counter() - started


def parallel(urls: list[str], path: str, size: int) -> float:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(lambda url: put(url, path, size), urls))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "part.bin")
        with open(path, "wb") as handle:
            for _run in range(100):
                handle.write(os.urandom(MB))
        cases = {}
        chunk = ("--chunk-size", str(100 * MB))
        with Emulator(*chunk, "--storage-connection-rate", "20") as emu:
            cases["connection: 100 MB at 20 MB/s"] = (5.0, [put(part_urls(emu, 100 * MB, 1)[0], path, 100 * MB)
                                                            for _run in range(args.runs)])
        with Emulator("--chunk-size", str(50 * MB), "--storage-link-rate", "40") as emu:
            cases["link: 4 x 50 MB at 40 MB/s"] = (5.0, [parallel(part_urls(emu, 50 * MB, 4), path, 50 * MB)
                                                         for _run in range(args.runs)])
        plain, slow = [], []
        with Emulator() as emu:
            plain = [put(part_urls(emu, 1, 1)[0], path, 1) for _run in range(10 * args.runs)]
        with Emulator("--storage-latency", "30") as emu:
            slow = [put(part_urls(emu, 1, 1)[0], path, 1) for _run in range(10 * args.runs)]
        cases["latency: 30 ms each way (added to a 1-byte PUT)"] = (
            0.060, [s - statistics.median(plain) for s in slow])
    results["load_after"] = os.getloadavg()[0]
    results["cases"] = {name: {"expected_s": expected, "median_s": statistics.median(runs),
                               "error_percent": 100 * (statistics.median(runs) / expected - 1), "runs": runs}
                        for name, (expected, runs) in cases.items()}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"load average {results['load_before']:.1f} -> {results['load_after']:.1f}")
    for name, row in results["cases"].items():
        runs = ", ".join(f"{r:.3f}" for r in row["runs"][:10])
        print(f"{name:<50} expected {row['expected_s']:.3f} s, median {row['median_s']:.3f} s "
              f"({row['error_percent']:+.1f} %); runs {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
