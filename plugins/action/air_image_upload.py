# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin for nvidia.air.air_image_upload: live progress for uploads that take hours.

The module runs on the target host (``delegate_to`` and ``become`` apply).
First as a plain module that only decides: when the image already holds the
file (its SHA-256 cached or given as ``checksum``), or the task fails before
anything is sent, that run's result is the task's and no background job is
started. Otherwise it runs as a background job (Ansible's async wrapper); the
controller reads the module's progress file with one plain shell command per
look and prints one line every ``progress_interval`` seconds through Ansible's
display, so the lines stream in AWX/AAP job output and keep a long job visibly
alive. Each look waits on the host, up to the next line, for the module's
process to end, so the task notices the end within a tenth of a second
whatever the job's age. When the job ends it prints one summary line and
returns the module's own result. Under a stdout callback whose output is data
(``ansible.posix.json``, ``jsonl`` ...; see ``stdout_is_data``) those lines go
to stderr instead, so the play's output still parses. Once it has the job's
result it removes the module's remote temporary directory itself (its payload
holds ``api_token``).

Check mode, a task with the user's own ``async``/``poll``, and
``progress_interval: 0`` run the module as a plain module, as before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import os
import shlex
import time
import uuid

from ansible import constants as C
from ansible import context
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import callback_loader
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

MODULE = "nvidia.air.air_image_upload"
DEFAULT_PROGRESS_INTERVAL = 10.0
MIN_PROGRESS_INTERVAL = 0.01  # more often floods a job's output and keeps a controller core busy
MAX_SECONDS = 10000000  # as the module's other durations: longer cannot be slept and is a typo anyway
# The module's own environment variable for the progress file the plugin watches (see the module).
WATCHER_PROGRESS_ENV = "NVIDIA_AIR_WATCHER_PROGRESS_FILE"
# The module's environment variable for the decision pass: it ends with "undecided" instead of hashing,
# waiting or uploading (see the module).
DECIDE_ENV = "NVIDIA_AIR_DECIDE_ONLY"
# A job that has written neither its job file nor any progress after this long never started (a full or
# read-only job directory): the task fails instead of waiting for the job time limit.
JOB_START_GRACE = 60.0
# The async wrapper kills a job older than this: a week, far longer than any upload the API accepts
# (120 GB), so only a job nobody watches any more ever reaches it.
JOB_TIME_LIMIT = 7 * 24 * 3600
# Polls a dead module process may be seen without a result before the task fails (its wrapper may
# still be writing the result at the first one).
DEAD_POLLS = 2
DEAD_SECONDS = 1.0
# Time between two looks while the module's pid is not known yet, or once its process has ended.
QUICK_LOOK = 0.1
# A look waits on the host for the module's process to end, checking every WAIT_STEP seconds, until the next
# progress line is due but at most LONGEST_LOOK seconds (one shell command never runs for long).
WAIT_STEP = 0.1
LONGEST_LOOK = 10.0
# More stdout callbacks whose output is data (see stdout_is_data).
DATA_CALLBACKS_ENV = "NVIDIA_AIR_DATA_CALLBACKS"
_SEPARATOR = "@@nvidia.air.progress@@"
_JOB_KEYS = ("ansible_job_id", "started", "finished", "results_file", "erased", "_ansible_suppress_tmpdir_delete")


def progress_interval(value):
    """Seconds between progress lines (``progress_interval``); 0 turns them off. ValueError when invalid."""
    if value is None:
        return DEFAULT_PROGRESS_INTERVAL
    if isinstance(value, bool):
        raise ValueError("progress_interval must be a number of seconds (0 turns the progress lines off), got %r"
                         % (value,))
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError("progress_interval must be a number of seconds (0 turns the progress lines off), got %r"
                         % (value,))
    if seconds != 0 and not MIN_PROGRESS_INTERVAL <= seconds <= MAX_SECONDS:  # NaN fails both comparisons
        raise ValueError("progress_interval must be 0 (no progress lines) or from %s to %d seconds (got %s)"
                         % (MIN_PROGRESS_INTERVAL, MAX_SECONDS, value))
    return seconds


def _megabytes(count):
    return "%.1f" % (count / 1e6)


def progress_line(snapshot):
    """One line for a progress snapshot of the module (``_progress.Progress.snapshot``)."""
    state = snapshot.get("state") or "starting"
    done, total = snapshot.get("bytes_done") or 0, snapshot.get("bytes_total") or 0
    rate, eta = snapshot.get("rate_bytes_per_second") or 0, snapshot.get("eta_seconds")
    if state == "waiting":
        return "waiting for another run's upload of this image to end"
    if state == "validating":
        return "validating: the Air API checks the uploaded file's size and SHA-256"
    text = "%s %5.1f%%  %s/%s MB" % (state, snapshot.get("percent") or 0.0, _megabytes(done), _megabytes(total))
    if state in ("uploading", "completing"):
        text += ", parts %d/%d" % (snapshot.get("parts_done") or 0, snapshot.get("parts_total") or 0)
    if state in ("hashing", "uploading"):
        text += ", %s MB/s" % _megabytes(rate)
        if eta is not None:
            text += ", ETA %s" % _duration(eta)
    return text


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 120:
        return "%d s" % seconds
    if seconds < 7200:
        return "%d min %02d s" % (seconds // 60, seconds % 60)
    return "%d h %02d min" % (seconds // 3600, seconds % 3600 // 60)


def summary_line(result):
    """One line for the module's final result."""
    if result.get("failed"):
        return "failed: %s" % result.get("msg", "unknown error")
    stats = result.get("upload")
    image = result.get("image") or {}
    if not stats:
        return "no upload needed: image %s %s already holds this file (%s)" % (
            image.get("name"), image.get("version"), image.get("upload_status"))
    if stats.get("adopted"):
        return "another run uploaded this file into image %s %s; nothing was sent" % (
            image.get("name"), image.get("version"))
    text = "uploaded %s MB in %d parts (%d resumed) in %s at %s MB/s" % (
        _megabytes(stats.get("bytes_uploaded") or 0), stats.get("parts_uploaded") or 0,
        stats.get("parts_resumed") or 0, _duration(stats.get("seconds") or 0), stats.get("mb_per_s"))
    if stats.get("validation_seconds") is not None:
        text += ", validated in %s" % _duration(stats["validation_seconds"])
    return text + "; image %s %s is %s" % (image.get("name"), image.get("version"), image.get("upload_status"))


def stdout_callback_name(cliargs=None):
    """The stdout callback this run prints through, chosen as ``ansible-playbook`` and ``ansible`` (ad-hoc) do."""
    cliargs = context.CLIARGS if cliargs is None else cliargs
    if "module_name" in cliargs:  # ad-hoc: minimal unless callbacks are loaded (bin_ansible_callbacks)
        if cliargs.get("one_line"):
            return "oneline"
        if C.DEFAULT_LOAD_CALLBACK_PLUGINS and C.DEFAULT_STDOUT_CALLBACK != "default":
            return C.DEFAULT_STDOUT_CALLBACK
        return "minimal"
    return C.DEFAULT_STDOUT_CALLBACK


def stdout_is_data(name, environ=None):
    """Whether stdout callback ``name`` writes data (a JSON document, JSON lines) that a line of ours would corrupt.

    A callback is data when its own plugin says it is in charge of stdout (``CALLBACK_TYPE = 'stdout'``, or it
    cannot be loaded here) and its name (``ansible.posix.json``, ``jsonl``, ``my.ns.ndjson`` ...) has ``json``
    in its last part, or it is listed in ``$NVIDIA_AIR_DATA_CALLBACKS`` (comma separated, for other formats).
    """
    environ = os.environ if environ is None else environ
    short = name.rsplit(".", 1)[-1].lower()
    listed = [item.strip() for item in environ.get(DATA_CALLBACKS_ENV, "").split(",") if item.strip()]
    if "json" not in short and name not in listed and short not in listed:
        return False
    try:
        plugin = callback_loader.get(name, class_only=True)
    except Exception:  # a plugin that fails to load here would fail the run anyway: decide by the name
        plugin = None
    return plugin is None or getattr(plugin, "CALLBACK_TYPE", "stdout") == "stdout"


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # no longer has any effect
        task_vars = task_vars or {}
        args = dict(self._task.args)
        try:
            interval = progress_interval(args.get("progress_interval"))
        except ValueError as exc:
            return merge_hash(result, {"failed": True, "changed": False, "msg": to_text(exc)})
        if self._task.check_mode or self._task.async_val or not interval:
            return merge_hash(result, self._run_plain(args, task_vars))
        label = task_vars.get("inventory_hostname", "")
        if self._task.delegate_to:
            label = "%s -> %s" % (label, self._task.delegate_to)
        decided = self._decide(args, task_vars)
        if decided is not None:
            self._summary(label, decided)
            return merge_hash(result, decided)
        return merge_hash(result, self._run_watched(args, interval, label, task_vars))

    # ------------------------------------------------------------- as a plain module
    def _run_plain(self, args, task_vars):
        wrap_async = bool(self._task.async_val) and not getattr(self._connection, "has_native_async", False)
        outcome = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars,
                                       wrap_async=wrap_async)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return outcome

    def _decide(self, args, task_vars):
        """The module's result when it needs no background job (nothing to send, or a failure), else None.

        A plain run that stops where it would hash the file, wait or send anything: a no-op costs one module
        run, an upload one short run more than the background job.
        """
        self._task.environment.append({DECIDE_ENV: "1"})
        try:
            outcome = self._run_plain(args, task_vars)
        finally:
            self._task.environment.pop()
        return None if outcome.get("undecided") else outcome

    def _summary(self, label, outcome):
        if not self._task.no_log:  # the summary may quote the module's messages
            self._print("%s [%s]: %s" % (MODULE, label, summary_line(outcome)))

    # ------------------------------------------------------- in the background, watched
    def _run_watched(self, args, interval, label, task_vars):
        job_dir, temporary = self._job_dir()
        if job_dir is None:
            display.warning("%s [%s]: no writable directory for a background job on the host (async_dir, $TMPDIR); "
                            "uploading without progress lines" % (MODULE, label))
            return self._run_plain(args, task_vars)
        # A progress file of the plugin's own, whatever the task does with progress_file (another task may
        # share that one).
        watch_file = self._connection._shell.join_path(job_dir, "nvidia-air-upload-%s.json" % uuid.uuid4().hex)
        job = self._start_job(args, job_dir, watch_file, task_vars)
        if job.get("failed") or "ansible_job_id" not in job:
            self._remove_module_tmp()
            job["changed"] = False  # nothing started
            return job
        try:
            outcome = self._watch(job, watch_file, interval, label)
            if outcome is None:
                outcome = self._job_result(job["ansible_job_id"], job_dir, task_vars)
        finally:
            if temporary:
                self._shell("rm -rf %s" % shlex.quote(job_dir))
            else:
                self._shell("rm -f %s %s" % (shlex.quote(job["results_file"]), shlex.quote(watch_file)))
            self._remove_tmp_path(self._connection._shell.tmpdir)
            self._remove_module_tmp()
        self._summary(label, outcome)
        return outcome

    def _job_dir(self):
        """``(directory, temporary)`` for the job's result and progress files on the host, else ``(None, False)``.

        The configured ``async_dir`` (absolute, so a task's ``environment`` cannot move it), else a private
        directory under the host's ``$TMPDIR`` (a read-only home), removed afterwards.
        """
        configured = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        probe = shlex.quote(self._connection._shell.join_path(configured, ".nvidia-air-probe-%s" % uuid.uuid4().hex))
        # Made and really written to: a full file system takes an empty file but not a job's result.
        if self._shell("mkdir -p %s && head -c 8192 /dev/zero > %s; status=$?; rm -f %s; exit $status"
                       % (shlex.quote(configured), probe, probe)).get("rc") == 0:
            return configured, False
        made = self._shell('mktemp -d "${TMPDIR:-/tmp}/nvidia-air-upload.XXXXXXXX"')
        if made.get("rc") == 0 and to_text(made.get("stdout", "")).strip():
            return to_text(made["stdout"]).strip(), True
        return None, False

    def _start_job(self, args, job_dir, watch_file, task_vars):
        """The module under the async wrapper, its job file in ``job_dir``; returns what the wrapper says on start."""
        shell = self._connection._shell
        own_async_val, own_async_dir = self._task.async_val, shell.get_option("async_dir")
        self._task.async_val = JOB_TIME_LIMIT
        shell.set_option("async_dir", job_dir)
        self._task.environment.append({WATCHER_PROGRESS_ENV: watch_file})
        self._module_tmp = shell.tmpdir or self._make_tmp_path()
        try:
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars, wrap_async=True)
        finally:
            self._task.environment.pop()
            self._task.async_val = own_async_val
            shell.set_option("async_dir", own_async_dir)

    def _print(self, line):
        """A progress or summary line: on stdout, where a job's output streams, unless stdout is data (a JSON
        callback): then on stderr, so the play's output still parses."""
        if getattr(self, "_to_stderr", None) is None:
            self._to_stderr = stdout_is_data(stdout_callback_name())
        display.display(line, stderr=self._to_stderr)

    def _remove_module_tmp(self):
        """Remove the module's remote tmp directory (its payload holds the task's arguments, api_token among them)
        now that the job is over, rather than leave it to the async wrapper's next look, or for good if that
        wrapper died. ``keep_remote_files`` keeps it, as for any module."""
        module_tmp, self._module_tmp = getattr(self, "_module_tmp", None), None
        if module_tmp and not C.DEFAULT_KEEP_REMOTE_FILES:
            self._remove_tmp_path(module_tmp, force=True)

    def _watch(self, job, progress_file, interval, label):
        """Print a line per interval until the job has finished (None) or its process died (a failure result).

        Once the module's progress names its pid, each look waits on the host until that process ends or the
        next line is due (``_look``): the end is noticed within ``WAIT_STEP`` seconds, whatever the job's age,
        with one shell command per line (or per ``LONGEST_LOOK``). Before that, and after the process ended
        while the wrapper writes the result, it looks every ``QUICK_LOOK`` seconds.
        """
        pid, dead_since, dead_polls, last = None, None, 0, None
        started = next_line = time.monotonic()
        while True:
            wait = 0.0
            if pid and not dead_polls:
                wait = min(max(0.0, next_line - time.monotonic()), LONGEST_LOOK)
                wait = wait if wait >= WAIT_STEP else 0.0
            snapshot, job_state, alive = self._look(progress_file, job["results_file"], pid, wait)
            if job_state == "finished":
                return None
            now = time.monotonic()
            if snapshot:
                pid, last = snapshot.get("pid") or pid, snapshot
                if now >= next_line:
                    self._print("%s [%s]: %s" % (MODULE, label, progress_line(snapshot)))
                    next_line = now + interval
            elif job_state is None and now - started > JOB_START_GRACE:
                return interrupted(
                    "the background job did not start: after %d s its job directory on the host holds neither a job "
                    "file nor progress (is it full or read-only?). Run with progress_interval: 0 to upload without "
                    "a background job" % JOB_START_GRACE)
            if alive is False:
                dead_since, dead_polls = dead_since or now, dead_polls + 1
            else:
                dead_since, dead_polls = None, 0
            # Its wrapper may still be writing the result at the first look: a death counts after two looks
            # and at least an interval (or DEAD_SECONDS, whichever is shorter).
            if dead_polls >= DEAD_POLLS and now - dead_since >= min(interval, DEAD_SECONDS):
                if (last or {}).get("state") == "complete":
                    return interrupted(
                        "the upload reached COMPLETE, but its background job ended without reporting (pid %s). Run "
                        "the task again to see the result: it sends nothing" % pid)
                return interrupted(
                    "the upload was interrupted: its background process (pid %s) ended without a result. Run the "
                    "task again: it resumes the upload from the parts already sent" % pid)
            if not wait:
                time.sleep(min(interval, QUICK_LOOK))

    def _look(self, progress_file, results_file, pid, wait=0.0):
        """``(progress snapshot or None, job finished, module alive or None)`` with one shell command.

        With ``pid`` and ``wait`` the command first waits (up to ``wait`` seconds) for that process to end.
        """
        command = ""
        if pid and wait > 0:
            # Whole seconds where sleep takes no fractions: the look still ends after about ``wait`` seconds.
            command = ("n=%d; while [ $n -gt 0 ] && kill -0 %d 2>/dev/null; do "
                       "if sleep %s 2>/dev/null; then n=$((n-1)); else sleep 1; n=$((n-%d)); fi; done; "
                       % (int(math.ceil(wait / WAIT_STEP)), int(pid), WAIT_STEP, int(round(1 / WAIT_STEP))))
        command += "cat %s 2>/dev/null; printf '\\n%s\\n'; cat %s 2>/dev/null" % (
            shlex.quote(progress_file), _SEPARATOR, shlex.quote(results_file))
        if pid:
            command += "; printf '\\n%s\\n'; kill -0 %d 2>/dev/null && echo alive" % (_SEPARATOR, int(pid))
        sections = to_text(self._shell(command).get("stdout", "")).split(_SEPARATOR)
        snapshot, job = _json(sections[0]), _json(sections[1] if len(sections) > 1 else "")
        alive = ("alive" in sections[2]) if len(sections) > 2 else None
        # The wrapper writes {"started": ...} when it starts the module and the module's result when it ends
        # (async_status reads it the same way); no file yet: None.
        job_state = None if job is None else ("running" if "started" in job else "finished")
        return snapshot, job_state, alive

    def _job_result(self, jid, async_dir, task_vars):
        """The module's result, read with async_status (which knows how the wrapper stored it)."""
        status = self._execute_module(module_name="ansible.legacy.async_status", task_vars=task_vars,
                                      module_args={"jid": jid, "mode": "status", "_async_dir": async_dir})
        outcome = dict((key, value) for key, value in status.items() if key not in _JOB_KEYS)
        # The wrapper's own report (it names the command it ran): the module process ended without writing a
        # result. A module that refused its arguments (AnsibleModule's own check) wrote one: that is no interruption.
        if outcome.get("failed") and "failure" not in outcome and "cmd" in outcome:
            return interrupted("the upload was interrupted: its background process ended without a result. Run the "
                               "task again: it resumes the upload from the parts already sent")
        return outcome

    def _shell(self, command):
        return self._low_level_execute_command(command, sudoable=True)


def interrupted(message):
    return {"failed": True, "changed": False, "interrupted": True, "msg": message}


def _json(text):
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
