"""Upload throughput: this collection's uploader vs the official SDK vs a raw ceiling (not a test).

Starts ONE emulator (--chunk-size 100000000 --validation-delay 0), writes one
random file of --size-mib MiB, and uploads it with --workers parallel parts:

  (a)  nvidia.air ImageUploader, hash_cache=False (hash + start + PUTs + complete)
  (a') the same with a warm hash cache (the hash comes from the cache)
  (b)  nv-air-sdk image.upload(filepath, max_workers=N) (it hashes inside the call)
  (c)  raw ceiling: requests PUTs of the same byte ranges from N threads, no hashing,
       no progress, no journal; only the PUTs are timed

Each run is a fresh subprocess (peak RSS = VmHWM of that process), rounds are
interleaved (a, a', b, c per round), and the median of --runs is reported.
After every run the image is waited for COMPLETE (outside the timing), its
server-validated hash is checked, and the image is deleted.

    .venv/bin/python benchmarks/upload.py [--size-mib 1024] [--workers 8] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "nvapi-demo-token"
CHUNK_SIZE = 100_000_000
BLOCK = 1 << 20
VARIANTS = ("a", "a_warm", "b", "c")
LABELS = {
    "a": "(a)  nvidia.air ImageUploader",
    "a_warm": "(a') nvidia.air, hash cache warm",
    "b": "(b)  nv-air-sdk image.upload",
    "c": "(c)  raw requests PUTs (ceiling)",
}


# ----------------------------------------------------------------- child side
def peak_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_seconds() -> float:
    """User + system CPU of this (client) process so far."""
    times = os.times()
    return times.user + times.system


def run_ours(spec: dict) -> dict:
    sys.path.insert(0, os.path.join(REPO, "collections"))
    from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
    from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

    warm = spec["variant"] == "a_warm"
    client = AirClient(api_url=spec["url"], api_token=TOKEN)
    image = client.images.create({"name": spec["name"], "version": spec["version"],
                                 "default_username": "u", "default_password": "p"})
    uploader = ImageUploader(client, workers=spec["workers"], cache_dir=spec["cache_dir"], hash_cache=warm)
    cpu, started = cpu_seconds(), time.perf_counter()
    image, stats = uploader.upload(image, spec["path"], wait=False)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    expected_source = "cache" if warm else "computed"
    if stats["hash_source"] != expected_source:
        raise RuntimeError(f"hash_source is {stats['hash_source']}, expected {expected_source}")
    return {"image_id": image.id, "seconds": seconds, "cpu_seconds": cpu, "client_sha256": stats["sha256"],
            "hash_seconds": stats["hash_seconds"], "status_after": image.upload_status}


def run_sdk(spec: dict) -> dict:
    from air_sdk import AirApi

    api = AirApi(api_url=spec["url"], api_key=TOKEN)
    image = api.images.create(name=spec["name"], version=spec["version"], default_username="u",
                              default_password="p")
    cpu, started = cpu_seconds(), time.perf_counter()
    image = image.upload(filepath=spec["path"], max_workers=spec["workers"])
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return {"image_id": str(image.id), "seconds": seconds, "cpu_seconds": cpu, "client_sha256": None,
            "status_after": image.upload_status}


class FileSlice:
    """Streaming body: ``__len__`` gives Content-Length, urllib3 calls ``read(blocksize)``."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self.file = open(path, "rb", buffering=0)
        self.file.seek(offset)
        self.remaining = length

    def __len__(self) -> int:
        return self.remaining

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.file.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def run_raw(spec: dict) -> dict:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from requests.adapters import HTTPAdapter

    blocksize = spec["raw_blocksize"]

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["blocksize"] = blocksize
            super().init_poolmanager(*args, **kwargs)

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {TOKEN}"
    base = spec["url"].rstrip("/") + "/api/v3/images/"
    created = api.post(base, json={"name": spec["name"], "version": spec["version"],
                                   "default_username": "u", "default_password": "p"}, timeout=60)
    created.raise_for_status()
    image_id = created.json()["id"]
    size = os.path.getsize(spec["path"])
    api_seconds = time.perf_counter()
    plan = api.patch(f"{base}{image_id}/start-upload/", json={"hash": spec["sha256"], "size": size}, timeout=60)
    plan.raise_for_status()
    plan = plan.json()
    api_seconds = time.perf_counter() - api_seconds
    chunk = int(plan["chunk_size"])
    local = threading.local()

    def put(part: dict) -> dict:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.mount("http://", Adapter())
        number = int(part["part_number"])
        offset = (number - 1) * chunk
        body = FileSlice(spec["path"], offset, min(chunk, size - offset))
        try:
            response = session.put(part["url"], data=body, timeout=(30, 300))
        finally:
            body.close()
        response.raise_for_status()
        return {"part_number": number, "etag": response.headers["ETag"].strip('"')}

    cpu, started = cpu_seconds(), time.perf_counter()
    with ThreadPoolExecutor(spec["workers"]) as pool:
        parts = list(pool.map(put, plan["part_urls"]))
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    complete_started = time.perf_counter()
    done = api.patch(f"{base}{image_id}/complete-upload/", json={"parts": parts}, timeout=60)
    done.raise_for_status()
    api_seconds += time.perf_counter() - complete_started
    # api_seconds (start-upload + complete-upload, not timed in (c)) explains most of a' - c
    return {"image_id": image_id, "seconds": seconds, "cpu_seconds": cpu, "client_sha256": None,
            "status_after": done.json()["upload_status"], "api_seconds": api_seconds}


def child(spec: dict) -> int:
    runner = {"a": run_ours, "a_warm": run_ours, "b": run_sdk, "c": run_raw}[spec["variant"]]
    result = runner(spec)
    result["rss_mib"] = peak_rss_mib()
    print(json.dumps(result))
    return 0


# ---------------------------------------------------------------- parent side
def make_file(path: str, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(BLOCK, left))
            handle.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def fill_hash_cache(path: str, cache_dir: str, url: str) -> str:
    """One hash_cache=True hashing pass, so that (a') finds the hash in the cache."""
    sys.path.insert(0, os.path.join(REPO, "collections"))
    from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
    from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

    uploader = ImageUploader(AirClient(api_url=url, api_token=TOKEN), cache_dir=cache_dir, hash_cache=True)
    sha256, _identity, source, _seconds = uploader.file_sha256(path)
    if source != "computed":
        raise RuntimeError(f"the warm cache was not empty (hash_source {source})")
    return sha256


def run_child(spec: dict) -> dict:
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)], check=False,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"variant {spec['variant']} failed (exit {done.returncode}):\n{done.stderr}{done.stdout}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verify_and_delete(emu, result: dict, variant: str, sha256: str, size: int) -> None:
    """Outside the timing: wait for the server's validation, check the hash, free the object."""
    if variant in ("a", "a_warm") and result["client_sha256"] != sha256:
        raise AssertionError(f"{variant}: our uploader hashed {result['client_sha256']}, expected {sha256}")
    image = emu.wait_for(result["image_id"], "COMPLETE", timeout=300)
    if image["hash"] != sha256 or image["size"] != size:
        raise AssertionError(f"{variant}: server has hash {image['hash']} size {image['size']}, "
                             f"expected {sha256} size {size}")
    deleted = emu.api("DELETE", f"images/{result['image_id']}")
    if deleted.status_code != 204:
        raise RuntimeError(f"delete image answered {deleted.status_code}: {deleted.text}")
    os.sync()  # do not let the next run pay for this run's writeback


def ratio(x: float, y: float) -> float:
    return round(x / y, 3) if y else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024, help="size of the test file in MiB (default 1024)")
    ap.add_argument("--workers", type=int, default=8, help="parallel part uploads (default 8)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each variant, interleaved (default 3)")
    ap.add_argument("--raw-blocksize", type=int, default=BLOCK,
                    help="urllib3 send block of the raw ceiling (default 1 MiB, like our uploader; "
                         "requests' own default is 16 KiB)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(json.loads(args.child))
    if args.size_mib < 1 or args.workers < 1 or args.runs < 1:
        ap.error("--size-mib, --workers and --runs must be >= 1")

    from air_emulator.testing import Emulator

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    size = args.size_mib * 1024 * 1024
    load_before = os.getloadavg()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as tmp:
        path = os.path.join(tmp, "image.bin")
        log(f"writing {size:,} random bytes to {path} ...")
        sha256 = make_file(path, size)
        with Emulator("--chunk-size", str(CHUNK_SIZE), "--validation-delay", "0") as emu:
            warm_cache = os.path.join(tmp, "cache-warm")
            if fill_hash_cache(path, warm_cache, emu.url) != sha256:
                raise AssertionError("our hash of the file differs from hashlib's")
            for run in range(1, args.runs + 1):
                for variant in VARIANTS:
                    spec = {"variant": variant, "url": emu.url, "path": path, "workers": args.workers,
                            "name": "bench-upload", "version": f"{variant}-{run}", "sha256": sha256,
                            "cache_dir": warm_cache if variant == "a_warm" else os.path.join(tmp, "cache-cold"),
                            "raw_blocksize": args.raw_blocksize}
                    result = run_child(spec)
                    verify_and_delete(emu, result, variant, sha256, size)
                    results[variant].append(result)
                    log(f"run {run}/{args.runs} {LABELS[variant]:<34} {result['seconds']:7.3f} s "
                        f"{size / result['seconds'] / 1e6:7.0f} MB/s  client CPU {result['cpu_seconds']:6.2f} s  "
                        f"peak RSS {result['rss_mib']:6.1f} MiB")
            leftover = emu.state()["uploads"]
            if leftover:
                raise AssertionError(f"multipart uploads left open: {leftover}")

    summary = {}
    for variant in VARIANTS:
        seconds = [r["seconds"] for r in results[variant]]
        rss = [r["rss_mib"] for r in results[variant]]
        cpu = [r["cpu_seconds"] for r in results[variant]]
        median = statistics.median(seconds)
        summary[variant] = {
            "label": LABELS[variant].split(" ", 1)[1].strip(),
            "seconds": [round(s, 3) for s in seconds],
            "median_seconds": round(median, 3),
            "median_mb_per_s": round(size / median / 1e6, 1),
            "client_cpu_seconds": [round(c, 3) for c in cpu],
            "median_client_cpu_seconds": round(statistics.median(cpu), 3),
            "peak_rss_mib": [round(r, 1) for r in rss],
            "median_peak_rss_mib": round(statistics.median(rss), 1),
        }
        if variant == "a":
            summary[variant]["median_hash_seconds"] = round(
                statistics.median(r["hash_seconds"] for r in results[variant]), 3)
        if variant == "c":
            summary[variant]["median_untimed_api_seconds"] = round(
                statistics.median(r["api_seconds"] for r in results[variant]), 3)
    speed = {v: summary[v]["median_mb_per_s"] for v in VARIANTS}
    ratios = {"a/b": ratio(speed["a"], speed["b"]), "a/c": ratio(speed["a"], speed["c"]),
              "a'/b": ratio(speed["a_warm"], speed["b"]), "a'/c": ratio(speed["a_warm"], speed["c"])}
    load_after = os.getloadavg()
    note = (f"machine: {os.cpu_count()} cores, small and noisy (load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after; other work may be running); numbers are medians of {args.runs} run(s) "
            f"from one run of this script")
    report = {
        "date": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "loadavg_1min_before": round(load_before[0], 2), "loadavg_1min_after": round(load_after[0], 2)},
        "nv_air_sdk": importlib.metadata.version("nv-air-sdk"),
        "size_bytes": size, "workers": args.workers, "runs": args.runs, "chunk_size": CHUNK_SIZE,
        "parts": -(-size // CHUNK_SIZE), "raw_blocksize": args.raw_blocksize,
        "variants": summary, "ratios": ratios, "note": note,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"\n{size:,} B ({args.size_mib} MiB) in {report['parts']} parts of {CHUNK_SIZE:,} B, "
          f"{args.workers} workers, {args.runs} run(s), nv-air-sdk {report['nv_air_sdk']}, {report['date']}")
    print(f"{'variant':<36} {'median s':>9} {'MB/s':>7} {'client CPU s':>13} {'peak RSS MiB':>13}  runs (s)")
    for variant in VARIANTS:
        s = summary[variant]
        print(f"{LABELS[variant]:<36} {s['median_seconds']:9.3f} {s['median_mb_per_s']:7.0f} "
              f"{s['median_client_cpu_seconds']:13.2f} {s['median_peak_rss_mib']:13.1f}  "
              f"{', '.join('%.3f' % x for x in s['seconds'])}")
    print("(a), (a') and (b): call until upload returns (hash if any, start, PUTs, complete-upload); "
          "(c): only the PUTs")
    print(f"(a) spent a median {summary['a']['median_hash_seconds']:.2f} s of its time hashing; "
          f"start-upload + complete-upload, not timed in (c), took a median "
          f"{summary['c']['median_untimed_api_seconds']:.2f} s there")
    print(f"a/b  = {ratios['a/b']:.2f}  (ours vs SDK, >1 means ours is faster)")
    print(f"a/c  = {ratios['a/c']:.2f}  (ours vs raw ceiling)")
    warm_b, warm_c = ratios["a'/b"], ratios["a'/c"]
    print(f"a'/b = {warm_b:.2f}  a'/c = {warm_c:.2f}  (the same with the hash from the cache)")
    print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
