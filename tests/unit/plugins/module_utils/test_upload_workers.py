# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``workers: auto`` (``_concurrency``): the policy on its own, then uploads against the emulator's WAN model.

The WAN tests assert where the worker count converges (how many parts the
modelled link rewards), never how long the upload took.
"""

from __future__ import annotations

import pytest

from air_emulator.testing import Emulator
from air_unit_helpers import CHUNK, DEMO_TOKEN, EMULATOR_ARGS, image_fields
from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient
from ansible_collections.nvidia.air.plugins.module_utils._concurrency import (
    AUTO_CAP, AUTO_START, SETTLE, WINDOW, AutoWorkers, FixedWorkers, balanced, parse_workers, worker_policy,
)
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader


# --------------------------------------------------------------- the policy alone
class Link:
    """A modelled link for the policy: each part carries ``per_part`` bytes/s, all together at most ``link``."""

    def __init__(self, per_part, link):
        self.per_part, self.link = per_part, link
        self.now, self.sent = 0.0, 0.0

    def run(self, policy, seconds, step=0.05):
        """Advance time, sending at the rate ``policy.limit`` parts get; ``observe`` as the uploader does."""
        end = self.now + seconds
        while self.now < end:
            self.now += step
            self.sent += min(policy.limit * self.per_part, self.link) * step
            policy.observe(self.now, self.sent)


def auto(link):
    return AutoWorkers(clock=lambda: link.now)


@pytest.mark.parametrize("per_part, link_rate, settles_on", [
    (25e6, 400e6, AUTO_CAP),  # 16 parts fill the link exactly
    (25e6, 200e6, 8),
    (100e6, 1000e6, AUTO_CAP),  # 8 -> 16 still adds 25 %: kept, and 16 is the cap
    (10e6, 20e6, AUTO_START),  # 4 parts already fill the link: adding more does not help
    (10e6, 60e6, 8),  # 4 -> 8 helps (+50 %), 8 -> 16 no longer does
    (10e6, 50e6, 8),  # 4 -> 8 +25 % (kept, then smaller steps), 8 -> 10 +0 %: back to 8
    (4e6, 24e6, 8),  # the WAN emulator below: 4 -> 8 +50 %, more adds nothing
])
def test_auto_settles_on_the_count_the_link_rewards(per_part, link_rate, settles_on):
    link = Link(per_part, link_rate)
    policy = auto(link)
    assert policy.limit == AUTO_START
    link.run(policy, 20)
    assert policy.done
    assert policy.settled == settles_on, policy.history


def test_auto_measures_after_the_new_parts_settled_and_over_a_window():
    link = Link(10e6, 1e9)
    policy = auto(link)
    link.run(policy, SETTLE + WINDOW - 0.1)
    assert policy.limit == AUTO_START  # not measured long enough yet
    link.run(policy, 0.2)
    assert policy.limit == 2 * AUTO_START
    assert policy.next_check(link.now) == pytest.approx(SETTLE, abs=0.1)


def test_auto_never_exceeds_its_cap():
    link = Link(1e6, 1e12)
    policy = auto(link)
    link.run(policy, 30)
    assert policy.settled == AUTO_CAP and policy.done
    assert max(count for count, _rate in policy.history) == AUTO_CAP


def test_a_throttling_storage_halves_the_count_once_per_window_and_it_stays():
    link = Link(25e6, 400e6)
    policy = auto(link)
    link.run(policy, SETTLE + WINDOW + 0.1)
    assert policy.limit == 8
    policy.slow_down(link.now)
    policy.slow_down(link.now + 0.1)  # the same burst of 503s: one halving
    assert policy.limit == 4 and policy.done
    link.run(policy, 10)
    assert policy.limit == 4
    policy.slow_down(link.now)
    assert policy.limit == 2
    assert policy.next_check(link.now) is None


class Parts(Link):
    """A file of ``count`` parts of ``size`` bytes on that link: parts in flight share it, the uploader's loop."""

    def __init__(self, per_part, link, count, size):
        super(Parts, self).__init__(per_part, link)
        self.left = [float(size)] * count
        self.size = size
        self.in_flight = []
        self.peak = 0

    def send(self, policy, step=0.05):
        """Run until every part is sent, keeping in flight what the uploader would; returns the seconds."""
        while self.left or self.in_flight:
            slots = policy.limit
            if policy.done:
                slots = balanced(policy.room, len(self.left) + len(self.in_flight))
            while self.left and len(self.in_flight) < slots:
                self.in_flight.append(self.left.pop())
            self.peak = max(self.peak, len(self.in_flight))
            rate = min(self.per_part, self.link / len(self.in_flight))
            self.now += step
            self.sent += rate * step * len(self.in_flight)
            self.in_flight = [left - rate * step for left in self.in_flight if left - rate * step > 0]
            policy.observe(self.now, self.sent, len(self.left) + len(self.in_flight))
        return self.now


@pytest.mark.parametrize("room, left, expected", [
    (16, 22, 11), (16, 16, 16), (16, 17, 9), (16, 3, 3), (8, 22, 8), (4, 6, 3), (16, 0, 0), (1, 5, 1),
])
def test_balanced_spreads_the_parts_left_over_equal_waves(room, left, expected):
    assert balanced(room, left) == expected


def test_a_handful_of_large_parts_goes_all_at_once():
    # 7 of Air's 100 MB parts: all in flight from the start (nothing to wait for), and nothing to decide.
    link = Parts(25e6, 400e6, count=7, size=100e6)
    policy = worker_policy("auto", clock=lambda: link.now, parts=7, part_size=100_000_000)
    link.send(policy)
    assert link.peak == 7 and len(policy.history) == 1
    assert worker_policy(3, clock=lambda: 0.0, parts=7, part_size=100_000_000).limit == 3  # a number pins it


def test_auto_fills_a_link_to_the_last_part_of_a_2_gib_file():
    # wan12: 12 MB/s per connection, 100 MB/s link; 2 GiB in 22 parts of 100 MB. 16 in flight and then the last
    # 6 alone (at 72 MB/s) would take 24 s; two waves of 11 keep the link full: 21.5 s plus the ramp.
    link = Parts(12e6, 100e6, count=22, size=100e6)
    policy = worker_policy("auto", clock=lambda: link.now, parts=22, part_size=100_000_000)
    seconds = link.send(policy)
    assert seconds < 22.5, policy.history
    assert link.peak <= balanced(AUTO_CAP, 22)  # it never started more than the waves need


def test_large_parts_start_with_more_and_small_parts_ramp_as_before():
    large = worker_policy("auto", clock=lambda: 0.0, parts=30, part_size=100_000_000)
    small = worker_policy("auto", clock=lambda: 0.0, parts=30, part_size=CHUNK)
    assert (large.limit, small.limit) == (2 * AUTO_START, AUTO_START)
    assert large.next_check(0.0) < small.next_check(0.0)


def test_auto_keeps_the_parts_a_full_link_takes_without_losing_throughput():
    # 8 parts fill this link; more add nothing, so it reports 8, but keeps more in flight for the last wave.
    link = Parts(25e6, 200e6, count=40, size=100e6)
    policy = AutoWorkers(clock=lambda: link.now)
    link.send(policy)
    assert policy.settled == 8 and 8 < policy.room <= AUTO_CAP, policy.history


def test_auto_after_a_slow_down_keeps_the_halved_count():
    link = Parts(25e6, 400e6, count=40, size=100e6)
    policy = AutoWorkers(clock=lambda: link.now)
    link.run(policy, SETTLE + WINDOW + 0.1)
    policy.slow_down(link.now)
    assert policy.room == policy.limit == AUTO_START


def test_fixed_workers_never_change():
    policy = FixedWorkers(3)
    policy.observe(10.0, 1e9)
    policy.slow_down(10.0)
    assert (policy.limit, policy.settled, policy.next_check(10.0)) == (3, 3, None)


@pytest.mark.parametrize("given, expected", [(4, 4), ("4", 4), (" 12 ", 12), ("auto", "auto"), ("AUTO", "auto"),
                                             (8.0, 8)])
def test_parse_workers(given, expected):
    assert parse_workers(given) == expected


@pytest.mark.parametrize("given", [0, -1, True, 2.5, "many", "", None, "4.5", [4]])
def test_parse_workers_refuses_anything_else(given):
    with pytest.raises(AirInputError, match="workers must be a whole number of at least 1, or auto"):
        parse_workers(given)


# ------------------------------------------------------- uploads over the WAN model
# A new connection first fills its socket buffers (megabytes on loopback) at memory speed. The parts here are
# large enough (20 MB) that this start is a small part of each, and the rates low enough that the CPU of a busy
# 2-core machine is not what limits them.
WAN_CHUNK = 20_000_000


@pytest.fixture(scope="module")
def wan_emulator():
    """Each part connection carries 4 MB/s, the link 24 MB/s: 6 parts in flight fill it."""
    with Emulator("--chunk-size", str(WAN_CHUNK), "--validation-delay", "0.2", "--storage-connection-rate", "4",
                  "--storage-link-rate", "24") as emu:
        yield emu


@pytest.fixture(scope="module")
def narrow_emulator():
    """Each connection 16 MB/s, the link 20 MB/s: the first 4 parts in flight already fill it."""
    with Emulator(*EMULATOR_ARGS, "--storage-connection-rate", "16", "--storage-link-rate", "20") as emu:
        yield emu


def upload_auto(emu, random_file, cache_dir, parts, name, chunk=CHUNK):
    client = AirClient(api_url=emu.url, api_token=DEMO_TOKEN)
    try:
        image = client.images.create(image_fields(name, "1.0"))
        source = random_file(parts * chunk, name="%s.img" % name)
        image, stats = ImageUploader(client, workers="auto", cache_dir=cache_dir).upload(image, source.path)
    finally:
        client.close()
    assert image.upload_status == "COMPLETE" and image.hash == source.sha256
    assert stats["workers_auto"] is True and stats["parts_uploaded"] == parts
    return stats


def test_auto_adds_parts_while_the_link_has_room(wan_emulator, random_file, cache_dir):
    # 4 parts carry 16 MB/s; 8 fill the 24 MB/s link (+50 %). Through the real uploader it tries more parts and
    # ends with a count it measured. Which count it keeps depends on the rates this machine reaches while it
    # measures (a loaded machine starves the part threads), so that decision is checked on the modelled link
    # above, (4e6, 24e6) of test_auto_settles_on_the_count_the_link_rewards, and measured in benchmarks/.
    # 16 parts: every count it tries is in effect until it has decided (the first part ends after about 5 s).
    stats = upload_auto(wan_emulator, random_file, cache_dir, parts=16, name="wan-auto", chunk=WAN_CHUNK)
    assert stats["workers_peak"] >= 2 * AUTO_START
    assert AUTO_START // 2 <= stats["workers"] <= 16, stats


def test_auto_keeps_its_start_when_more_parts_do_not_help(narrow_emulator, random_file, cache_dir):
    stats = upload_auto(narrow_emulator, random_file, cache_dir, parts=30, name="narrow-auto")
    assert stats["workers_peak"] == 2 * AUTO_START  # it tried
    assert stats["workers"] == AUTO_START, stats


def test_auto_halves_the_count_when_the_storage_says_slow_down(emulator, make_uploader, make_image, random_file):
    emulator.add_fault(action="status", status=503, method="PUT", path="/_s3/", part_numbers=[1],
                       detail="Please reduce your request rate.")
    source = random_file(8 * CHUNK)
    image, stats = make_uploader(workers="auto").upload(make_image(), source.path)
    assert image.upload_status == "COMPLETE"
    assert stats["retries"] >= 1
    assert stats["workers"] == AUTO_START // 2, stats


def test_auto_halves_the_count_when_a_part_runs_out_of_part_timeout(emulator, make_uploader, make_image, random_file):
    # Too many parts sharing a slow link each take longer than part_timeout: fewer at once, as for a 503. The
    # first attempt of part 1 waits at the emulator's gate (until the test ends): it can only time out.
    emulator.hold(method="PUT", path="/_s3/", part_numbers=[1], count=1)
    source = random_file(8 * CHUNK)
    image, stats = make_uploader(workers="auto", part_timeout=2).upload(make_image(), source.path)
    assert image.upload_status == "COMPLETE"
    assert stats["retries"] >= 1
    assert stats["workers"] == AUTO_START // 2, stats
