"""Throughput of the emulator's local data plane (not a test).

Starts an emulator, asks for an upload of PARTS x PART_MB, PUTs the parts in
parallel with the cheapest client there is (http.client + sendfile, so the
number measures the server: MD5 ETag + write to --data-dir), completes, and
prints MB/s per run and the median. Target on the 2-core project machine:
>= 700 MB/s for 4 x 100 MB (the MD5 + disk-write ceiling measured there is
~0.9 GB/s, see shared/docs/machine-limits.md).

    .venv/bin/python benchmarks/emulator_dataplane.py [--parts 4] [--part-mb 100] [--runs 3] [--require 700]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from air_emulator.testing import Emulator


def put_part(path: str, url: str, offset: int, length: int) -> str:
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    with open(path, "rb", buffering=0) as f:
        conn.putrequest("PUT", f"{u.path}?{u.query}")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        conn.sock.sendfile(f, offset, length)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"part PUT answered {response.status}")
    return response.getheader("ETag").strip('"')


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--part-mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--require", type=float, default=0, help="exit 1 if the median MB/s is below this")
    args = ap.parse_args()
    part = args.part_mb * 1_000_000
    size = part * args.parts
    with tempfile.TemporaryDirectory(prefix="dataplane-bench-") as tmp:
        path = os.path.join(tmp, "blob.bin")
        with open(path, "wb") as f:
            block = os.urandom(1 << 20)
            for _block in range(size // len(block)):
                f.write(block)
            f.write(block[: size % len(block)])
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        rates = []
        with Emulator("--chunk-size", str(part), "--validation-delay", "0") as emu:
            for run in range(args.runs):
                image = emu.api("POST", "images", json={"name": "bench", "version": str(run),
                                                        "default_username": "u", "default_password": "p"}).json()
                plan = emu.api("PATCH", f"images/{image['id']}/start-upload",
                               json={"hash": digest.hexdigest(), "size": size}).json()
                started = time.perf_counter()
                with ThreadPoolExecutor(args.parts) as pool:
                    etags = list(pool.map(lambda p: put_part(path, p["url"], (p["part_number"] - 1) * part, part),
                                          plan["part_urls"]))
                seconds = time.perf_counter() - started
                parts = [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]
                done = emu.api("PATCH", f"images/{image['id']}/complete-upload", json={"parts": parts})
                if done.status_code != 200:
                    raise RuntimeError(done.text)
                emu.wait_for(image["id"], "COMPLETE", timeout=120)
                rates.append(size / seconds / 1e6)
                print(f"run {run + 1}: {args.parts} x {args.part_mb} MB in {seconds:.2f} s = {rates[-1]:.0f} MB/s")
                emu.api("PATCH", f"images/{image['id']}/clear-upload")
    median = statistics.median(rates)
    print(f"median: {median:.0f} MB/s over {args.runs} runs ({args.parts} parallel PUTs of {args.part_mb} MB)")
    if args.require and median < args.require:
        print(f"below the required {args.require:.0f} MB/s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
