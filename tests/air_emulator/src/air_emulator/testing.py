"""Start the emulator as a subprocess for tests, demos and CI.

``Emulator`` is a context manager (used by our pytest fixtures);
``air-emulator-run [OPTIONS] -- COMMAND...`` runs one command against a fresh
emulator and stops it afterwards, whatever happens.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

READY_PREFIX = "air-emulator listening on "
DEMO_TOKEN = "nvapi-demo-token"
PARTNER_TOKEN = "nvapi-partner-token"
READONLY_TOKEN = "nvapi-readonly-token"
UPLOADER_TOKEN = "nvapi-uploader-token"  # demo-org, image_read + image_write: requests, no direct publish
ADMIN_TOKEN = "nvapi-admin-token"  # air-admin org, air:admin: reviews publish access records


class EmulatorError(RuntimeError):
    pass


class LocalFile:
    """A file on disk with the size and SHA-256 a client declares for it."""

    def __init__(self, path) -> None:
        self.path = str(path)
        self.size = os.path.getsize(self.path)
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        self.sha256 = digest.hexdigest()

    def __repr__(self) -> str:
        return f"LocalFile({self.path!r}, size={self.size})"


def write_random_file(path, size: int) -> LocalFile:
    """``size`` random bytes at ``path``, written 1 MiB at a time."""
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(1 << 20, remaining))
            handle.write(block)
            remaining -= len(block)
    return LocalFile(path)


class Emulator:
    """A running ``air-emulator`` process with a temporary data dir."""

    def __init__(self, *args: str, data_dir: str | None = None, startup_timeout: float = 30.0,
                 env: dict | None = None) -> None:
        self.args = list(args)
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="air-emulator-")
        self.startup_timeout = startup_timeout
        self.env = env
        self.url = None
        self.proc = None
        self.output: list[str] = []

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> "Emulator":
        command = [sys.executable, "-m", "air_emulator.cli", "--port", "0", "--data-dir", self.data_dir, *self.args]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=self.env, start_new_session=True)
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self.output.append(line)
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX):].strip()
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(self.startup_timeout) or self.url is None:
            self.stop()
            raise EmulatorError("air-emulator did not start:\n" + "".join(self.output))
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same data dir (state must survive)."""
        own, self._own_dir = self._own_dir, False
        self.stop()
        self._own_dir = own
        self.start()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- admin API helpers -------------------------------------------------------
    def admin(self, method: str, path: str, **kwargs):
        response = requests.request(method, f"{self.url}/_emulator/{path.strip('/')}/", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def state(self) -> dict:
        return self.admin("GET", "state")

    def add_fault(self, **rule) -> dict:
        return self.admin("POST", "faults", json=rule)

    def hold(self, **match) -> dict:
        """Add a ``hold`` rule (a gate) for requests matching ``match``; open it with ``release``."""
        return self.add_fault(action="hold", **match)

    def wait_held(self, rule: dict, held: int = 1, timeout: float = 60.0) -> dict:
        """Wait until ``held`` requests are at (or went through) ``rule``'s gate; the rule's counters."""
        response = requests.get(f"{self.url}/_emulator/faults/{rule['id']}/wait/",
                                params={"held": held, "timeout": timeout}, timeout=timeout + 30)
        if response.status_code == 408:
            raise EmulatorError(response.json()["detail"])
        response.raise_for_status()
        return response.json()

    def release(self, rule: dict) -> dict:
        """Open ``rule``'s gate: held requests go on, later ones pass."""
        return self.admin("POST", f"faults/{rule['id']}/release")

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def faults(self) -> list:
        return self.admin("GET", "faults")

    def reset(self) -> None:
        self.admin("POST", "reset")

    def mark_in_use(self, image_id: str, *instances: dict) -> dict:
        """Make ``image_id`` held by ``instances`` (e.g. ``{"type": "node", "name": "leaf01"}``): deleting it is then
        a 400 ``PROTECTED`` listing them. Without instances, one node ``{"type": "node", "name": "node-1"}``."""
        body = {"instances": list(instances) or [{"type": "node", "name": "node-1"}]}
        return self.admin("POST", f"images/{image_id}/in-use", json=body)

    def clear_in_use(self, image_id: str) -> dict:
        return self.admin("DELETE", f"images/{image_id}/in-use")

    def advance_clock(self, seconds: float) -> dict:
        return self.admin("POST", "clock", json={"advance": seconds})

    def api(self, method: str, path: str, token: str = DEMO_TOKEN, **kwargs) -> requests.Response:
        """One raw API call (``path`` relative to /api/v3/)."""
        url = f"{self.url}/api/v3/{path.strip('/')}/"
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(method, url, headers=headers, timeout=60, **kwargs)

    def wait_for(self, image_id: str, status: str, token: str = DEMO_TOKEN, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            image = self.api("GET", f"images/{image_id}", token=token).json()
            if image.get("upload_status") == status:
                return image
            if time.monotonic() > deadline:
                raise EmulatorError(f"image {image_id} still {image.get('upload_status')} after {timeout}s")
            time.sleep(0.05)


def run_main(argv: list[str] | None = None) -> int:
    """``air-emulator-run [EMULATOR OPTIONS] -- COMMAND [ARGS...]``"""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print("usage: air-emulator-run [EMULATOR OPTIONS] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    try:
        emulator = Emulator(*options).start()
    except EmulatorError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    env = dict(os.environ, AIR_API_URL=emulator.url, AIR_EMULATOR_URL=emulator.url)
    child = None

    def forward(signum, _frame):
        if child and child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"air-emulator-run: emulator at {emulator.url}", file=sys.stderr, flush=True)
        child = subprocess.Popen(command, env=env)
        return child.wait()
    except OSError as exc:
        print(f"air-emulator-run: cannot run {command[0]}: {exc}", file=sys.stderr)
        return 127
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emulator.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_main())
