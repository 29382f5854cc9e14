"""GET /images/: pagination, every filter, booleans, search, ordering.

These tests only read, so they share one catalog built once on a module
emulator (the session emulator is reset before every test).
"""

from __future__ import annotations

import urllib.parse

import pytest
import requests

from air_emulator.testing import Emulator
from airemu_helpers import (
    DEMO_EMAIL, DEMO_TOKEN, EMULATOR_ARGS, PARTNER_EMAIL, PARTNER_TOKEN, assert_error, complete_image, create_image,
    published_image, unchanged,
)

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


@pytest.fixture(scope="module")
def catalog(files):
    with Emulator(*EMULATOR_ARGS) as emu:
        made = {
            "alpha-1": create_image(emu, name="alpha", version="1.0"),
            "alpha-2": create_image(emu, name="alpha", version="2.0", cpu_arch="ARM", includes_air_agent=True),
            "beta": create_image(emu, name="beta", version="1.0", provider="CONTAINER", mountpoint="/mnt/b"),
            "gamma": create_image(emu, name="gamma-search", version="3.1", cpu_arch="ARM", provider="CONTAINER",
                                  includes_air_agent=True),
            "delta": complete_image(emu, files.small, name="delta", version="1.0", mountpoint="/mnt/d"),
            "partner-pub": published_image(emu, files.other, token=PARTNER_TOKEN, name="partner-pub",
                                           version="1.0"),
        }
        create_image(emu, token=PARTNER_TOKEN, name="partner-private", version="1.0")  # invisible to demo
        emu.catalog = {key: emu.api("GET", f"images/{image['id']}").json() for key, image in made.items()}
        yield emu


def get(emu, token=DEMO_TOKEN, path="images", **params):
    return emu.api("GET", path, token=token, params=params)


def keys(emu, results):
    by_id = {image["id"]: key for key, image in emu.catalog.items()}
    return [by_id[r["id"]] for r in results]


def test_default_listing_shows_own_and_published_images(catalog):
    page = get(catalog).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 6 and page["next"] is None and page["previous"] is None
    assert set(keys(catalog, page["results"])) == set(catalog.catalog)
    assert page["results"] == [catalog.catalog[k] for k in keys(catalog, page["results"])]
    partner = get(catalog, token=PARTNER_TOKEN).json()
    assert partner["count"] == 2  # its own two images, none of demo-org's unpublished ones


ALL_DEMO = {"alpha-1", "alpha-2", "beta", "gamma", "delta"}
FILTERS = [
    ({"name": "alpha"}, {"alpha-1", "alpha-2"}),
    ({"name": "alph"}, set()),
    ({"version": "1.0"}, {"alpha-1", "beta", "delta", "partner-pub"}),
    ({"cpu_arch": "ARM"}, {"alpha-2", "gamma"}),
    ({"cpu_arch": "x86"}, {"alpha-1", "beta", "delta", "partner-pub"}),
    ({"creator": PARTNER_EMAIL}, {"partner-pub"}),
    ({"creator": DEMO_EMAIL}, ALL_DEMO),
    ({"provider": "CONTAINER"}, {"beta", "gamma"}),
    ({"provider": "VM"}, {"alpha-1", "alpha-2", "delta", "partner-pub"}),
    ({"upload_status": "COMPLETE"}, {"delta", "partner-pub"}),
    ({"upload_status": "READY"}, {"alpha-1", "alpha-2", "beta", "gamma"}),
    ({"upload_status": "UPLOADING"}, set()),
    ({"search": "amm"}, {"gamma"}),
    ({"search": "ALPHA"}, {"alpha-1", "alpha-2"}),
    ({"search": "3.1"}, {"gamma"}),
    ({"search": "zzz"}, set()),
    ({"name": "alpha", "cpu_arch": "x86"}, {"alpha-1"}),
    ({"is_owned_by_client": "false", "published": "true"}, {"partner-pub"}),
]
for spelling in ("true", "True", "1"):
    FILTERS += [
        ({"includes_air_agent": spelling}, {"alpha-2", "gamma"}),
        ({"published": spelling}, {"partner-pub"}),
        ({"publicly_published": spelling}, {"partner-pub"}),
        ({"is_owned_by_client": spelling}, ALL_DEMO),
    ]
for spelling in ("false", "False", "0"):
    FILTERS += [
        ({"includes_air_agent": spelling}, {"alpha-1", "beta", "delta", "partner-pub"}),
        ({"published": spelling}, ALL_DEMO),
        ({"publicly_published": spelling}, ALL_DEMO),
        ({"is_owned_by_client": spelling}, {"partner-pub"}),
    ]


@pytest.mark.parametrize("params, expected", FILTERS, ids=[urllib.parse.urlencode(p) for p, _expected in FILTERS])
def test_filters(catalog, params, expected):
    page = get(catalog, **params).json()
    assert set(keys(catalog, page["results"])) == expected
    assert page["count"] == len(expected)


def test_hash_filter(catalog):
    digest = catalog.catalog["delta"]["hash"]
    assert len(digest) == 64
    assert keys(catalog, get(catalog, hash=digest).json()["results"]) == ["delta"]
    assert get(catalog, hash="0" * 64).json()["count"] == 0


def assert_ordered(results, ordering):
    fields = [(f.lstrip("-"), f.startswith("-")) for f in ordering.split(",")]
    for a, b in zip(results, results[1:]):
        for name, descending in fields:
            if a[name] == b[name]:
                continue
            if a[name] is None or b[name] is None:  # nulls last ascending, first descending (PostgreSQL)
                assert (a[name] is None) == descending, (name, a[name], b[name])
            else:
                assert (a[name] > b[name]) if descending else (a[name] < b[name]), (ordering, name, a[name], b[name])
            break


ORDERINGS = ["name", "-name", "name,version", "name,-version", "-name,-version", "cpu_arch,-name",
             "-cpu_arch,name,version", "created", "-created", "size", "-size", "upload_status,name",
             "provider,cpu_arch,-created", "-mountpoint", "mountpoint", "includes_air_agent,name", "-hash",
             "creator,name"]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_ordering(catalog, ordering):
    results = get(catalog, ordering=ordering).json()["results"]
    assert len(results) == 6
    assert_ordered(results, ordering)


def test_ordering_results_are_exact_for_a_total_order(catalog):
    def names(ordering):
        return keys(catalog, get(catalog, ordering=ordering).json()["results"])

    assert names("name,version") == ["alpha-1", "alpha-2", "beta", "delta", "gamma", "partner-pub"]
    assert names("-name,-version") == ["partner-pub", "gamma", "delta", "beta", "alpha-2", "alpha-1"]
    assert names("cpu_arch,-name,version") == ["gamma", "alpha-2", "partner-pub", "delta", "beta", "alpha-1"]
    assert names("-created") == list(reversed(names("created")))


def test_pagination_follows_absolute_next_urls_verbatim(catalog):
    everything = get(catalog, ordering="name,version").json()["results"]
    first = get(catalog, limit=2, ordering="name,version").json()
    assert first["count"] == 6 and len(first["results"]) == 2 and first["previous"] is None
    assert first["next"].startswith(f"{catalog.url}/api/v3/images/")
    collected, page, pages = list(first["results"]), first, [first]
    while page["next"]:
        response = requests.get(page["next"], headers=AUTH, timeout=10)  # verbatim, no params re-added
        assert response.status_code == 200
        page = response.json()
        assert page["count"] == 6 and page["previous"]
        collected += page["results"]
        pages.append(page)
    assert len(pages) == 3 and len(pages[-1]["results"]) == 2
    assert collected == everything
    back = requests.get(pages[2]["previous"], headers=AUTH, timeout=10).json()
    assert back["results"] == pages[1]["results"]
    back = requests.get(pages[1]["previous"], headers=AUTH, timeout=10).json()
    assert back["results"] == pages[0]["results"] and back["previous"] is None


def test_next_urls_keep_the_filters(catalog):
    page = get(catalog, limit=1, cpu_arch="x86", ordering="-name").json()
    seen = list(page["results"])
    while page["next"]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(page["next"]).query)
        assert query["cpu_arch"] == ["x86"] and query["ordering"] == ["-name"] and query["limit"] == ["1"]
        page = requests.get(page["next"], headers=AUTH, timeout=10).json()
        seen += page["results"]
    assert keys(catalog, seen) == ["partner-pub", "delta", "beta", "alpha-1"]


def test_offset_and_limit(catalog):
    ordered = get(catalog, ordering="name,version").json()["results"]
    page = get(catalog, ordering="name,version", limit=3, offset=2).json()
    assert page["results"] == ordered[2:5]
    assert page["next"] and page["previous"]
    beyond = get(catalog, offset=50).json()
    assert beyond["count"] == 6 and beyond["results"] == [] and beyond["next"] is None
    sdk_page = get(catalog, limit=200).json()  # the SDK's default page size
    assert len(sdk_page["results"]) == 6 and sdk_page["next"] is None


def test_pagination_without_trailing_slash(catalog):
    response = requests.get(f"{catalog.url}/api/v3/images?limit=4", headers=AUTH, timeout=10)
    page = response.json()
    assert len(page["results"]) == 4 and page["next"]
    rest = requests.get(page["next"], headers=AUTH, timeout=10).json()
    assert len(rest["results"]) == 2 and rest["next"] is None


BAD_PARAMS = [
    ("includes_air_agent", "yes"), ("published", "2"), ("is_owned_by_client", "maybe"),
    ("publicly_published", ""), ("cpu_arch", "arm"), ("provider", "KVM"), ("upload_status", "FAILED"),
    ("upload_status", "complete"), ("ordering", "colour"), ("ordering", "-default_password"),
    ("ordering", "name,bogus"), ("limit", "abc"), ("limit", "0"), ("limit", "-1"), ("offset", "-1"),
    ("offset", "x"),
]


@pytest.mark.parametrize("param, value", BAD_PARAMS, ids=[f"{p}={v}" for p, v in BAD_PARAMS])
def test_bad_query_parameter_is_400_naming_it(catalog, param, value):
    with unchanged(catalog):
        assert_error(get(catalog, **{param: value}), 400, param)


def test_share_list_bad_parameters(catalog):
    assert_error(get(catalog, path="images/shares", state="OPEN"), 400, "state")
    assert_error(get(catalog, path="images/shares", ordering="password"), 400, "ordering")
    assert_error(get(catalog, path="images/shares", limit="none"), 400, "limit")
