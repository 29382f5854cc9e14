"""What a user sees: air_image_upload through ansible-playbook vs the official SDK, over a modelled WAN (not a test).

Everything runs against emulators this script starts (loopback, temporary data
dirs), one per network setting:

  wan12     --storage-connection-rate 12 --storage-link-rate 100 --storage-latency 40   (2 GiB file)
  wan25     --storage-connection-rate 25 --storage-link-rate 400 --storage-latency 30   (1 GiB)
  wan100    --storage-connection-rate 100 --storage-link-rate 1000                       (1 GiB)
  loopback  (no model)                                                                   (512 MiB)

and measures, each run a fresh process (ansible-playbook, or python for the SDK):

  upload    a file into a READY image, per setting (--variants): the module with its defaults (workers auto,
            progress lines every 10 s: the action plugin runs it in the background), with workers 4 and 8;
            the SDK's image.upload(filepath=...) (max_workers 1, its default), max_workers 4 and 8; and a
            one-task ping playbook (the cost of ansible-playbook itself). Rounds are interleaved (every variant
            of every setting once per round), --runs rounds; medians.
  resume    the module (defaults) killed with SIGKILL once its progress file says 50 %, then run again:
            the bytes the second run sends (the SDK has no resume: it sends everything again).
  rss       peak RSS (VmHWM) of the module process in an upload at auto's cap (16 workers) of 1 GiB and 10 GiB.
  noop      the module's no-op decision on that 10 GiB file (hash cache warm; with its defaults, and with
            progress_interval 0, which runs it as a plain module) and an image_release re-run that changes
            nothing, as seconds beyond the ping playbook.
  fleet     image_release on 20 inventory hosts (local connections, forks 10, one emulator), each its own
            image of a 256 MiB file: the first run and its no-op re-run, whole ansible-playbook processes.
  list      air_image_info over 5,000 images vs the SDK's list(), whole processes.

    .venv/bin/python benchmarks/user_level.py [--runs 3] [--size-mib N] [--big-gib 10] [--images 5000]
        [--settings wan12,wan25,wan100,loopback] [--variants 'module defaults,sdk default,sdk 8']
        [--fleet-hosts 20] [--fleet-forks 10] [--fleet-mib 256] [--only upload,resume,rss,noop,fleet,list] [--json]

Progress goes to stderr; the table (or --json) to stdout.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "air_emulator", "src"))
from air_emulator.testing import DEMO_TOKEN, Emulator  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "collections"))
from ansible_collections.nvidia.air.plugins.module_utils._concurrency import AUTO_CAP  # noqa: E402

PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
CHUNK = 100_000_000
SETTINGS = {
    "wan12": {"args": ["--storage-connection-rate", "12", "--storage-link-rate", "100", "--storage-latency", "40"],
              "link_mb_per_s": 100, "label": "12 MB/s per connection, 100 MB/s link, 40 ms"},
    "wan25": {"args": ["--storage-connection-rate", "25", "--storage-link-rate", "400", "--storage-latency", "30"],
              "link_mb_per_s": 400, "label": "25 MB/s per connection, 400 MB/s link, 30 ms"},
    "wan100": {"args": ["--storage-connection-rate", "100", "--storage-link-rate", "1000"],
               "link_mb_per_s": 1000, "label": "100 MB/s per connection, 1,000 MB/s link"},
    "loopback": {"args": [], "link_mb_per_s": None, "label": "loopback (no model)"},
}
MODULE_VARIANTS = {"module defaults": None, "module 4": 4, "module 8": 8}  # defaults: workers auto
SDK_VARIANTS = {"sdk default": None, "sdk 4": 4, "sdk 8": 8}
# File size per setting (MiB) unless --size-mib names one for all: 2 GiB is 22 of Air's 100 MB parts.
DEFAULT_SIZES = {"wan12": 2048, "wan25": 1024, "wan100": 1024, "loopback": 512}
CALLBACK = '''
import json, os
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    """Writes the result of every task named 'bench' to $BENCH_RESULT (the benchmark reads its stats)."""
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_result"
    CALLBACK_NEEDS_ENABLED = True

    def _keep(self, result, *_args, **_kwargs):
        if result._task.get_name() == "bench":
            with open(os.environ["BENCH_RESULT"], "w") as handle:
                json.dump(result._result, handle, default=str)

    v2_runner_on_ok = v2_runner_on_failed = _keep
'''


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------- the SDK side (child process)
SDK_SCRIPT = '''
import json, sys, time
from air_sdk import AirApi
url, token, image_id, path, workers, mode = sys.argv[1:7]
api = AirApi(api_url=url, api_key=token)
if mode == "upload":
    image = api.images.get(image_id)
    if workers == "default":
        image.upload(filepath=path)  # the documented call: max_workers defaults to 1
    else:
        image.upload(filepath=path, max_workers=int(workers))
    print(json.dumps({"ok": True}))
else:
    print(json.dumps({"count": len(list(api.images.list()))}))
'''


# ----------------------------------------------------------------- helpers
class Workspace:
    """Files, playbooks and the environment every ansible-playbook run shares."""

    def __init__(self, root: str) -> None:
        self.root = root
        os.makedirs(os.path.join(root, "callbacks"))
        with open(os.path.join(root, "callbacks", "bench_result.py"), "w") as handle:
            handle.write(CALLBACK)
        self.inventory = os.path.join(root, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write(f"localhost ansible_connection=local ansible_python_interpreter={PYTHON}\n")
        self.sdk_script = os.path.join(root, "sdk_run.py")
        with open(self.sdk_script, "w") as handle:
            handle.write(SDK_SCRIPT)
        self.result_file = os.path.join(root, "result.json")

    def playbook(self, name: str, tasks: list, hosts: str = "localhost") -> str:
        path = os.path.join(self.root, f"{name}.yml")
        with open(path, "w") as handle:
            json.dump([{"hosts": hosts, "gather_facts": False, "tasks": tasks}], handle)
        return path

    def env(self, url: str, cache_dir: str, keep_result: bool = True) -> dict:
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "collections"), ANSIBLE_NOCOLOR="1",
                   AIR_API_URL=url, AIR_API_TOKEN=DEMO_TOKEN, NVIDIA_AIR_CACHE_DIR=cache_dir,
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        if keep_result:  # a callback that writes the 'bench' task's result (small, except for big lists)
            env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(self.root, "callbacks"),
                       ANSIBLE_CALLBACKS_ENABLED="bench_result", BENCH_RESULT=self.result_file)
        return env

    def run_playbook(self, playbook: str, url: str, cache_dir: str, extra: dict | None = None,
                     on_start=None, keep_result: bool = True, inventory: str | None = None,
                     forks: int | None = None) -> tuple[float, dict | None]:
        """Wall seconds of one ansible-playbook process and the 'bench' task's result."""
        if os.path.exists(self.result_file):
            os.unlink(self.result_file)
        command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory or self.inventory, playbook]
        if forks:
            command += ["--forks", str(forks)]
        if extra:
            command += ["-e", json.dumps(extra)]
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=self.env(url, cache_dir, keep_result), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        if on_start is not None:
            on_start(proc)
        output = proc.communicate()[0]
        seconds = time.perf_counter() - started
        result = None
        if os.path.exists(self.result_file):
            with open(self.result_file) as handle:
                result = json.load(handle)
        if proc.returncode != 0 and on_start is None:
            raise RuntimeError(f"{playbook} failed:\n{output[-3000:]}")
        return seconds, result

    def run_sdk(self, url: str, image_id: str, path: str, workers, mode: str = "upload") -> tuple[float, dict]:
        started = time.perf_counter()
        proc = subprocess.run([PYTHON, self.sdk_script, url, DEMO_TOKEN, image_id, path,
                               "default" if workers is None else str(workers), mode],
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"SDK run failed:\n{proc.stderr[-3000:]}")
        return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


class Api:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
        self.base = f"{emu.url}/api/v3/images/"
        self.counter = 0

    def create(self, prefix: str) -> str:
        self.counter += 1
        response = self.session.post(self.base, json={"name": f"{prefix}-{self.counter}-{time.time_ns()}",
                                                      "version": "1.0", "default_username": "u",
                                                      "default_password": "p"}, timeout=60)
        response.raise_for_status()
        return response.json()["id"]

    def get(self, image_id: str) -> dict:
        response = self.session.get(f"{self.base}{image_id}/", timeout=60)
        response.raise_for_status()
        return response.json()

    def settle_and_check(self, image_id: str, sha256: str, size: int) -> None:
        deadline = time.monotonic() + 600
        while True:
            image = self.get(image_id)
            if image["upload_status"] == "COMPLETE":
                break
            if time.monotonic() > deadline or image["upload_status"] == "READY":
                raise RuntimeError(f"image {image_id} is {image['upload_status']}")
            time.sleep(0.1)
        if image["hash"] != sha256 or image["size"] != size:
            raise RuntimeError(f"image {image_id} holds {image['hash']} / {image['size']}")

    def delete(self, image_id: str) -> None:
        self.session.delete(f"{self.base}{image_id}/", timeout=120).raise_for_status()


def make_file(path: str, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        left = size
        while left:
            block = os.urandom(min(1 << 20, left))
            handle.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sha256_of(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def median(values):
    return statistics.median(values) if values else None


def upload_task(src: str, image_id: str, workers=None, **extra) -> list:
    args = {"image": image_id, "src": src, **extra}
    if workers is not None:
        args["workers"] = workers
    return [{"name": "bench", "nvidia.air.air_image_upload": args}]


class RssSampler:
    """Peak RSS (VmHWM) of the module process: its pid comes from the progress file."""

    def __init__(self, progress_file: str) -> None:
        self.progress_file = progress_file
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pid = None
        while not self._stop.is_set():
            if pid is None:
                try:
                    with open(self.progress_file) as handle:
                        pid = json.load(handle).get("pid")
                except (OSError, ValueError):
                    pass
            if pid:
                try:
                    with open(f"/proc/{pid}/status") as handle:
                        for line in handle:
                            if line.startswith("VmHWM:"):
                                self.peak_kib = max(self.peak_kib, int(line.split()[1]))
                except OSError:
                    pass
            self._stop.wait(0.05)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024.0


# ----------------------------------------------------------------- the measurements
def measure_uploads(ws: Workspace, emulators: dict, apis: dict, files: dict, runs: int, variants: list,
                    results: dict) -> None:
    """``files``: setting -> (path, sha256, size)."""
    ping = ws.playbook("ping", [{"name": "bench", "ansible.builtin.ping": {}}])
    samples = {s: {v: [] for v in variants} for s in emulators}
    details = {s: {v: [] for v in variants if v in MODULE_VARIANTS} for s in emulators}
    pings = []
    for round_number in range(1, runs + 1):
        seconds, _result = ws.run_playbook(ping, next(iter(emulators.values())).url,
                                           os.path.join(ws.root, "ping-cache"), keep_result=False)
        pings.append(seconds)
        log(f"round {round_number}: ping {seconds:.2f} s")
        for setting, emu in emulators.items():
            api = apis[setting]
            path, sha, size = files[setting]
            for variant in variants:
                image_id = api.create("bench")
                if variant in MODULE_VARIANTS:
                    cache = tempfile.mkdtemp(dir=ws.root, prefix="cache-")  # a first run: the hash is computed
                    playbook = ws.playbook("upload", upload_task(path, image_id, MODULE_VARIANTS[variant]))
                    seconds, result = ws.run_playbook(playbook, emu.url, cache)
                    stats = result["upload"]
                    details[setting][variant].append({k: stats[k] for k in (
                        "workers", "workers_peak", "mb_per_s", "seconds", "hash_seconds", "validation_seconds")})
                    shutil.rmtree(cache)
                    note = f"workers {stats['workers']} (peak {stats['workers_peak']}), {stats['mb_per_s']} MB/s"
                else:
                    seconds, _out = ws.run_sdk(emu.url, image_id, path, SDK_VARIANTS[variant])
                    note = ""
                samples[setting][variant].append(seconds)
                log(f"round {round_number}: {setting:<8} {variant:<16} {seconds:7.2f} s {note}")
                api.settle_and_check(image_id, sha, size)
                api.delete(image_id)
                os.sync()
    results["ping"] = {"median_s": median(pings), "runs": pings}
    table = {}
    for setting in emulators:
        size = files[setting][2]
        rows = {}
        for variant, values in samples[setting].items():
            row = {"median_s": median(values), "runs": values, "mb_per_s_wall": size / median(values) / 1e6}
            if variant in MODULE_VARIANTS:
                row["upload_mb_per_s"] = median([d["mb_per_s"] for d in details[setting][variant]])
                row["workers"] = [d["workers"] for d in details[setting][variant]]
                row["workers_peak"] = [d["workers_peak"] for d in details[setting][variant]]
                row["hash_s"] = median([d["hash_seconds"] for d in details[setting][variant]])
                row["validation_s"] = median([d["validation_seconds"] for d in details[setting][variant]])
            rows[variant] = row
        link = SETTINGS[setting]["link_mb_per_s"]
        ratios = {}
        if "module defaults" in rows:
            defaults = rows["module defaults"]["median_s"]
            if link:
                ratios["defaults: share of the link, whole process"] = size / 1e6 / link / defaults
                ratios["defaults transfer / link"] = rows["module defaults"]["upload_mb_per_s"] / link
            for sdk in ("sdk default", "sdk 4", "sdk 8"):
                if sdk in rows:
                    ratios[f"defaults / {sdk}"] = defaults / rows[sdk]["median_s"]
            best = [v for v in ("sdk 4", "sdk 8") if v in rows]
            if best:
                sdk_best = min(best, key=lambda v: rows[v]["median_s"])
                ratios[f"defaults / sdk best ({sdk_best})"] = defaults / rows[sdk_best]["median_s"]
            if "sdk default" in rows:
                ratios["(defaults - ping) / sdk default"] = \
                    (defaults - results["ping"]["median_s"]) / rows["sdk default"]["median_s"]
        table[setting] = {"label": SETTINGS[setting]["label"], "size": size, "rows": rows, "ratios": ratios}
    results["upload"] = table


def measure_resume(ws: Workspace, emu: Emulator, api: Api, path: str, sha: str, size: int, results: dict) -> None:
    cache = tempfile.mkdtemp(dir=ws.root, prefix="cache-")
    image_id = api.create("resume")
    progress_file = os.path.join(ws.root, "resume-progress.json")
    playbook = ws.playbook("resume", upload_task(path, image_id, progress_file=progress_file))
    killed = {}

    def kill_at_half(proc):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with open(progress_file) as handle:
                    snap = json.load(handle)
            except (OSError, ValueError):
                snap = {}
            if snap.get("state") == "uploading" and snap.get("percent", 0) >= 50:
                os.kill(snap["pid"], signal.SIGKILL)  # the module in the background, as a cancelled job is
                os.killpg(proc.pid, signal.SIGKILL)  # and the controller with it
                state = emu.state()
                stored = sum(u["bytes_received"] for u in state["uploads"] if u["image_id"] == image_id)
                killed.update(percent=snap["percent"], stored_fraction=stored / size)
                return
            time.sleep(0.02)

    ws.run_playbook(playbook, emu.url, cache, on_start=lambda proc: threading.Thread(
        target=kill_at_half, args=(proc,), daemon=True).start())
    seconds, result = ws.run_playbook(playbook, emu.url, cache)
    stats = result["upload"]
    api.settle_and_check(image_id, sha, size)
    api.delete(image_id)
    shutil.rmtree(cache)
    results["resume"] = {"killed_at_percent": killed.get("percent"),
                         "stored_when_killed": killed.get("stored_fraction"),
                         "second_run_bytes": stats["bytes_uploaded"], "second_run_fraction": stats["bytes_uploaded"] / size,
                         "parts_resumed": stats["parts_resumed"], "parts_total": stats["parts_total"],
                         "second_run_s": seconds}
    log(f"resume: {results['resume']}")


def measure_big(ws: Workspace, emu: Emulator, api: Api, small_path: str, big_gib: int, runs: int,
                results: dict, do_rss: bool, do_noop: bool) -> None:
    big = os.path.join(ws.root, "big.img")
    big_size = big_gib << 30
    with open(big, "wb") as handle:  # sparse: no disk for the source; the emulator still stores every byte
        handle.truncate(big_size)
    cache = tempfile.mkdtemp(dir=ws.root, prefix="cache-big-")
    progress_file = os.path.join(ws.root, "rss-progress.json")
    rss = {}
    targets = ([("1 GiB", small_path)] if do_rss and small_path else []) + [(f"{big_gib} GiB", big)]
    big_image = None
    for label, path in targets:
        image_id = api.create("rss")
        if os.path.exists(progress_file):
            os.unlink(progress_file)
        sampler = RssSampler(progress_file)
        # At auto's cap: the most parts it ever has in flight.
        playbook = ws.playbook("rss", upload_task(path, image_id, AUTO_CAP, progress_file=progress_file))
        seconds, result = ws.run_playbook(playbook, emu.url, cache)
        rss[label] = {"peak_rss_mib": round(sampler.stop(), 1), "seconds": seconds,
                      "mb_per_s": result["upload"]["mb_per_s"]}
        log(f"rss {label}: {rss[label]}")
        if path == big:
            big_image = image_id
        else:
            api.delete(image_id)
    if do_rss:
        results["rss"] = rss
    if do_noop:
        ping = ws.playbook("ping", [{"name": "bench", "ansible.builtin.ping": {}}])
        noop = ws.playbook("noop", upload_task(big, big_image))
        plain = ws.playbook("noop-plain", upload_task(big, big_image, progress_interval=0))
        image = api.get(big_image)
        role_vars = {"image_release_name": image["name"], "image_release_version": image["version"],
                     "image_release_file": big, "image_release_default_username": "u",
                     "image_release_default_password": "p"}
        role = ws.playbook("role", [{"name": "bench", "ansible.builtin.include_role": {"name": "nvidia.air.image_release"}}])
        ws.run_playbook(role, emu.url, cache, extra=role_vars)  # warm-up: the first run may adopt the image
        pings, noops, plains, roles = [], [], [], []
        for _run in range(runs):
            pings.append(ws.run_playbook(ping, emu.url, cache, keep_result=False)[0])
            for playbook, into in ((noop, noops), (plain, plains)):
                seconds, result = ws.run_playbook(playbook, emu.url, cache)
                if result.get("changed") or result.get("upload") is not None:
                    raise RuntimeError(f"the no-op run changed something: {result}")
                into.append(seconds)
            roles.append(ws.run_playbook(role, emu.url, cache, extra=role_vars, keep_result=False)[0])
            log(f"noop: ping {pings[-1]:.2f} s, module {noops[-1]:.2f} s, module without progress lines "
                f"{plains[-1]:.2f} s, role {roles[-1]:.2f} s")
        results["noop"] = {"file_gib": big_gib, "ping_s": median(pings), "module_s": median(noops),
                           "module_plain_s": median(plains), "role_s": median(roles),
                           "module_beyond_ping_s": median(noops) - median(pings),
                           "module_plain_beyond_ping_s": median(plains) - median(pings),
                           "role_beyond_ping_s": median(roles) - median(pings),
                           "runs": {"ping": pings, "module": noops, "module_plain": plains, "role": roles}}
    api.delete(big_image)
    os.unlink(big)
    shutil.rmtree(cache)


def measure_fleet(ws: Workspace, emu: Emulator, api: Api, hosts: int, forks: int, size_mib: int, runs: int,
                  results: dict) -> None:
    """image_release on ``hosts`` inventory hosts (local connections), ``forks`` at a time: a first run (create,
    upload, validate) and its no-op re-run, each a whole ansible-playbook process; ``runs`` rounds."""
    path = os.path.join(ws.root, "fleet.img")
    make_file(path, size_mib << 20)
    inventory = os.path.join(ws.root, "fleet.ini")
    with open(inventory, "w") as handle:
        for number in range(1, hosts + 1):
            handle.write(f"fleet-{number:02d} ansible_connection=local ansible_python_interpreter={PYTHON}\n")
    ping = ws.playbook("fleet-ping", [{"name": "bench", "ansible.builtin.ping": {}}], hosts="all")
    role = ws.playbook("fleet", [{"name": "bench", "ansible.builtin.include_role": {"name": "nvidia.air.image_release"},
                                  "vars": {"image_release_name": "fleet-{{ inventory_hostname }}-{{ fleet_round }}",
                                           "image_release_version": "1.0", "image_release_file": path,
                                           "image_release_default_username": "u",
                                           "image_release_default_password": "p"}}], hosts="all")
    pings, firsts, noops = [], [], []
    for round_number in range(1, runs + 1):
        cache = tempfile.mkdtemp(dir=ws.root, prefix="cache-fleet-")  # a first run hashes
        extra = {"fleet_round": round_number}
        pings.append(ws.run_playbook(ping, emu.url, cache, keep_result=False, inventory=inventory, forks=forks)[0])
        firsts.append(ws.run_playbook(role, emu.url, cache, extra=extra, keep_result=False, inventory=inventory,
                                      forks=forks)[0])
        noops.append(ws.run_playbook(role, emu.url, cache, extra=extra, keep_result=False, inventory=inventory,
                                     forks=forks)[0])
        log(f"fleet round {round_number}: ping {pings[-1]:.2f} s, first run {firsts[-1]:.2f} s, "
            f"no-op re-run {noops[-1]:.2f} s")
        for number in range(1, hosts + 1):
            for image in api.session.get(api.base, params={"name": f"fleet-fleet-{number:02d}-{round_number}"},
                                         timeout=60).json()["results"]:
                api.delete(image["id"])
        shutil.rmtree(cache)
    os.unlink(path)
    results["fleet"] = {"hosts": hosts, "forks": forks, "file_mib": size_mib, "ping_s": median(pings),
                        "first_s": median(firsts), "noop_s": median(noops),
                        "noop_over_first": median(noops) / median(firsts),
                        "runs": {"ping": pings, "first": firsts, "noop": noops}}


def measure_list(ws: Workspace, emu: Emulator, api: Api, images: int, runs: int, results: dict) -> None:
    started = time.perf_counter()
    ids = [api.create("list") for _run in range(images)]
    created = time.perf_counter() - started
    log(f"list: {images} images created in {created:.1f} s")
    ping = ws.playbook("ping", [{"name": "bench", "ansible.builtin.ping": {}}])
    info = ws.playbook("info", [{"name": "bench", "nvidia.air.air_image_info": {}}])
    cache = os.path.join(ws.root, "list-cache")
    _seconds, result = ws.run_playbook(info, emu.url, cache)  # untimed: it returns every image
    if len(result["images"]) < images:
        raise RuntimeError(f"air_image_info returned {len(result['images'])} images")
    pings, infos, sdks = [], [], []
    for _run in range(runs):
        pings.append(ws.run_playbook(ping, emu.url, cache, keep_result=False)[0])
        infos.append(ws.run_playbook(info, emu.url, cache, keep_result=False)[0])
        seconds, out = ws.run_sdk(emu.url, "-", "-", None, mode="list")
        if out["count"] < images:
            raise RuntimeError(f"the SDK listed {out['count']} images")
        sdks.append(seconds)
        log(f"list: ping {pings[-1]:.2f} s, air_image_info {infos[-1]:.2f} s, SDK list() {sdks[-1]:.2f} s")
    results["list"] = {"images": images, "create_seconds": created, "ping_s": median(pings),
                       "air_image_info_s": median(infos), "sdk_list_s": median(sdks),
                       "info_minus_sdk_plus_ping_s": median(infos) - median(sdks) - median(pings),
                       "runs": {"ping": pings, "info": infos, "sdk": sdks}}
    for image_id in ids:
        api.delete(image_id)


# ----------------------------------------------------------------- report
def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def versions() -> dict:
    names = ("ansible-core", "nv-air-sdk", "requests", "urllib3")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def print_report(results: dict) -> None:
    print(f"{results['date']}; {results['machine']}; Python {results['python']}; "
          + ", ".join(f"{k} {v}" for k, v in results["versions"].items()))
    print(f"load average (1 min): {results['load_before']:.1f} at the start, {results['load_after']:.1f} at the end")
    if "ping" in results:
        print(f"\nping playbook (ansible-playbook baseline): median {results['ping']['median_s']:.2f} s")
    for setting, block in results.get("upload", {}).items():
        print(f"\n{setting}: {block['label']}, {block['size']} B")
        print(f"  {'variant':<16} {'median s':>9} {'MB/s wall':>10} {'upload MB/s':>12} {'workers':>12}  runs")
        for variant, row in block["rows"].items():
            workers = ",".join(map(str, row.get("workers", []))) or "-"
            upload = f"{row['upload_mb_per_s']:.0f}" if "upload_mb_per_s" in row else "-"
            runs = ", ".join(f"{r:.2f}" for r in row["runs"])
            print(f"  {variant:<16} {row['median_s']:>9.2f} {row['mb_per_s_wall']:>10.0f} {upload:>12} {workers:>12}  "
                  f"{runs}")
        print("  " + "; ".join(f"{k} = {v:.2f}" for k, v in block["ratios"].items() if v is not None))
    for key in ("resume", "rss", "noop", "fleet", "list"):
        if key in results:
            print(f"\n{key}: {json.dumps(results[key], default=lambda x: round(x, 3))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=None,
                        help="file size for every setting (default: wan12 2048, loopback 512, others 1024)")
    parser.add_argument("--big-gib", type=int, default=10)
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--only", default="upload,resume,rss,noop,fleet,list")
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--variants", default=",".join(list(MODULE_VARIANTS) + list(SDK_VARIANTS)),
                        help="upload variants, e.g. 'module defaults,sdk default,sdk 8'")
    parser.add_argument("--fleet-hosts", type=int, default=20)
    parser.add_argument("--fleet-forks", type=int, default=10)
    parser.add_argument("--fleet-mib", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    results = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, kernel {platform.release()}",
               "python": platform.python_version(), "versions": versions(), "args": vars(args),
               "load_before": os.getloadavg()[0], "uptime_before": uptime()}
    root = tempfile.mkdtemp(prefix="nvidia-air-bench-")
    emulators = {}
    try:
        ws = Workspace(root)
        settings = args.settings.split(",")
        made, files = {}, {}
        for setting in settings:
            mib = args.size_mib or DEFAULT_SIZES[setting]
            if mib not in made:
                path = os.path.join(root, f"image-{mib}.qcow2")
                made[mib] = (path, make_file(path, mib << 20), mib << 20)
            files[setting] = made[mib]
        common = ("--chunk-size", str(CHUNK), "--validation-delay", "0")
        for setting in settings:
            emulators[setting] = Emulator(*common, *SETTINGS[setting]["args"]).start()
        apis = {s: Api(e) for s, e in emulators.items()}
        loop = "loopback" if "loopback" in emulators else next(iter(emulators))
        if "upload" in parts:
            measure_uploads(ws, emulators, apis, files, args.runs, args.variants.split(","), results)
        if "resume" in parts:
            setting = "wan25" if "wan25" in emulators else loop
            measure_resume(ws, emulators[setting], apis[setting], *files[setting], results)
        if parts & {"rss", "noop"}:
            small = made.get(1024, (None,))[0]
            measure_big(ws, emulators[loop], apis[loop], small, args.big_gib, args.runs, results,
                        "rss" in parts, "noop" in parts)
        if "fleet" in parts:
            measure_fleet(ws, emulators[loop], apis[loop], args.fleet_hosts, args.fleet_forks, args.fleet_mib,
                          args.runs, results)
        if "list" in parts:
            measure_list(ws, emulators[loop], apis[loop], args.images, args.runs, results)
    finally:
        for emu in emulators.values():
            emu.stop()
        shutil.rmtree(root, ignore_errors=True)
    results["load_after"] = os.getloadavg()[0]
    results["uptime_after"] = uptime()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
