"""Emulator control-plane speed: image create and a 200-image list page with N images stored (not a test).

Starts its own emulator (loopback, temporary data dir), creates --images images
through the API (one keep-alive HTTP session, as a client would), timing every
create; then times --pages list requests of ?limit=200 at offsets spread over
the whole list (plain, and with a filter and an ordering), and the last
--tail creates again (with every image stored). Prints medians and 95th
percentiles in milliseconds, client-observed (HTTP round trip on loopback).

    .venv/bin/python benchmarks/emulator_control_plane.py [--images 5000] [--pages 50] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "air_emulator", "src"))
from air_emulator.testing import DEMO_TOKEN, Emulator  # noqa: E402

TARGET_CREATE_MS = 10.0
TARGET_PAGE_MS = 50.0


def body(n: int) -> dict:
    return {"name": f"bench-{n:05d}", "version": "1.0", "default_username": "u", "default_password": "p",
            "notes": "control-plane benchmark", "emulation_type": ["NIC"]}


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2), "n": len(ordered)}


def timed(session: requests.Session, method: str, url: str, **kwargs) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = session.request(method, url, timeout=60, **kwargs)
    return time.perf_counter() - started, response


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--pages", type=int, default=50, help="list requests per kind (default 50)")
    parser.add_argument("--tail", type=int, default=200, help="creates timed with every image stored (default 200)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    results: dict = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "python": platform.python_version(), "load_before": os.getloadavg()[0], "images": args.images}
    with Emulator() as emu, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
        api = f"{emu.url}/api/v3/images/"
        first, last, started = [], [], time.perf_counter()
        count = args.images - args.tail
        for n in range(count):
            seconds, response = timed(session, "POST", api, json=body(n))
            assert response.status_code == 201, response.text
            (first if n < args.tail else last).append(seconds)
        fill_seconds = time.perf_counter() - started
        tail = []
        for n in range(count, args.images):
            seconds, response = timed(session, "POST", api, json=body(n))
            assert response.status_code == 201, response.text
            tail.append(seconds)
        pages = {}
        queries = {
            "plain": {},
            "filtered + ordered": {"upload_status": "READY", "ordering": "-name"},
            "search": {"search": "bench-0"},
        }
        for kind, extra in queries.items():
            samples = []
            for i in range(args.pages):
                offset = (i * 997) % max(1, args.images - 200)
                seconds, response = timed(session, "GET", api, params=dict(extra, limit=200, offset=offset))
                assert response.status_code == 200, response.text
                page = response.json()
                assert len(page["results"]) == 200 and page["count"] >= 200, (kind, page["count"])
                samples.append(seconds)
            pages[kind] = summary(samples)
        results.update(
            create_first=summary(first[: args.tail]), create_with_all_stored=summary(tail),
            fill_seconds=round(fill_seconds, 1), list_page_200=pages, load_after=os.getloadavg()[0],
        )
    met = (results["create_with_all_stored"]["median_ms"] <= TARGET_CREATE_MS
           and results["list_page_200"]["plain"]["median_ms"] <= TARGET_PAGE_MS)
    results["targets_met"] = met
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{results['date']}, Python {results['python']}, load {results['load_before']:.1f} -> "
          f"{results['load_after']:.1f}; {args.images} images created in {results['fill_seconds']} s")
    print(f"{'request':<42} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'n':>5}")
    rows = [("create (first %d)" % args.tail, results["create_first"]),
            ("create (with %d stored)" % (args.images - args.tail), results["create_with_all_stored"])]
    rows += [(f"list ?limit=200, {kind}", stats) for kind, stats in pages.items()]
    for label, stats in rows:
        print(f"{label:<42} {stats['median_ms']:>10} {stats['p95_ms']:>8} {stats['max_ms']:>8} {stats['n']:>5}")
    print(f"targets (create <= {TARGET_CREATE_MS} ms, plain page <= {TARGET_PAGE_MS} ms): "
          f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
