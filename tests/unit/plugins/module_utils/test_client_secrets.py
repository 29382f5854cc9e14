# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Secrets in every form (issue 19): a token as pasted, a token that cannot be sent, masking of every encoding."""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from urllib.parse import quote, quote_plus

import pytest

from air_unit_helpers import DEMO_TOKEN, RecordingHandler, air_raises, assert_redacted

from ansible_collections.nvidia.air.plugins.module_utils._client import AirClient, resolve_token
from ansible_collections.nvidia.air.plugins.module_utils._errors import (
    AirApiError,
    AirConfigError,
    AirConnectionError,
    redact,
    register_secret,
)
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy

NO_CONFIG = "/nonexistent/ngc/config"


class _AuthorizationRecorder(RecordingHandler):
    """Records only the Authorization header each request carried."""

    def record(self):
        return self.headers.get("Authorization")


@pytest.fixture
def recorder():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthorizationRecorder)
    server.daemon_threads = True
    server.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


# A token as it arrives from an AWX credential field, a `|` block in Vault, a copy from a web page or a file.
PASTED = ["\n", "\r\n", " \n", "\t", "  ", "\u00a0", "\n\n"]


@pytest.mark.parametrize("around", PASTED)
@pytest.mark.parametrize("source", ["api_token", "AIR_API_TOKEN", "~/.ngc/config"])
def test_surrounding_white_space_of_a_token_is_dropped_wherever_it_comes_from(recorder, tmp_path, source, around):
    server, url = recorder
    pasted = DEMO_TOKEN + around if around != "\t" else "\t" + DEMO_TOKEN + "\t"
    config = tmp_path / "ngc-config"
    config.write_text("[CURRENT]\napikey = %s\n" % pasted.replace("\n", "").replace("\r", ""))
    kwargs = dict(api_token=pasted if source == "api_token" else None,
                  environ={"AIR_API_TOKEN": pasted} if source == "AIR_API_TOKEN" else {},
                  ngc_config=str(config) if source == "~/.ngc/config" else NO_CONFIG)
    client = AirClient(api_url=url, retry=RetryPolicy(attempts=1), **kwargs)
    try:
        assert client.token_source == source
        assert client.images.list() == []
    finally:
        client.close()
    assert server.seen == ["Bearer " + DEMO_TOKEN]


def test_the_token_really_authenticates_with_a_trailing_newline(emulator):
    client = AirClient(api_url=emulator.url, api_token=DEMO_TOKEN + "\n", retry=RetryPolicy(attempts=1))
    try:
        assert client.images.list() == []
    finally:
        client.close()


# Characters that cannot go into an Authorization header, inside the token where stripping does not reach.
UNSENDABLE = [
    ("\u200b", "U+200B ZERO WIDTH SPACE"),
    ("\u00a0", "U+00A0 NO-BREAK SPACE"),
    ("\n", "U+000A LINE FEED"),
    ("\r\n", "U+000D CARRIAGE RETURN"),
    ("\t", "U+0009 TAB"),
    (" ", "U+0020 SPACE"),
    ("\u00e9", "U+00E9 LATIN SMALL LETTER E WITH ACUTE"),
    ("\u2019", "U+2019 RIGHT SINGLE QUOTATION MARK"),
    ("\x00", "U+0000 control character"),
    ("\ufeff", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
]


# A line break ends the apikey line of an INI file: that case is a token of its own there.
SOURCES_AND_CHARACTERS = [(source, char, named) for source in ("api_token", "AIR_API_TOKEN", "~/.ngc/config")
                          for char, named in UNSENDABLE if source != "~/.ngc/config" or "\n" not in char]


@pytest.mark.parametrize("source, char, named", SOURCES_AND_CHARACTERS,
                         ids=["%s-%s" % (source, named) for source, _char, named in SOURCES_AND_CHARACTERS])
def test_a_token_that_cannot_be_sent_is_refused_before_any_request_naming_the_option(recorder, tmp_path, source,
                                                                                     char, named):
    server, url = recorder
    token = "nvapi-zw" + char + "secret-part-of-the-token"
    config = tmp_path / "ngc-config"
    config.write_text("[CURRENT]\napikey = %s\n" % token, encoding="utf-8")
    kwargs = dict(api_token=token if source == "api_token" else None,
                  environ={"AIR_API_TOKEN": token} if source == "AIR_API_TOKEN" else {},
                  ngc_config=str(config) if source == "~/.ngc/config" else NO_CONFIG)
    with air_raises(AirConfigError, extra_secrets=("secret-part", "nvapi-zw")) as info:
        AirClient(api_url=url, **kwargs)
    text = str(info.value)
    assert text.startswith("check options failed: %s holds a character that cannot be sent in an HTTP header (%s,"
                           % (source, named)), text
    assert "\n" not in text and info.value.attempts is None
    assert server.seen == []  # nothing was sent, nothing retried


def test_resolve_token_returns_the_stripped_token():
    assert resolve_token(" %s\r\n" % DEMO_TOKEN, {}, NO_CONFIG) == (DEMO_TOKEN, "api_token")
    # A value of white space only is as good as not set: the next source is used.
    assert resolve_token("\n", {"AIR_API_TOKEN": DEMO_TOKEN + "\n"}, NO_CONFIG) == (DEMO_TOKEN, "AIR_API_TOKEN")


# ----------------------------------------------------------- masking, every encoding
SECRET = "nvapi-Mask/Me+Now=\u00e9\n"


def _forms(secret):
    stripped = secret.strip()
    forms = []
    for text in (secret, stripped):
        forms += [text, repr(text)[1:-1], json.dumps(text)[1:-1], text.encode("unicode_escape").decode(),
                  quote(text, safe=""), quote(text), quote_plus(text), re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe="")),
                  base64.b64encode(text.encode()).decode()]
    return forms


@pytest.mark.parametrize("form", range(len(_forms(SECRET))))
def test_a_registered_secret_is_masked_in_every_encoding(form):
    register_secret(SECRET)
    shown = _forms(SECRET)[form]
    text = redact("before %s after; header dump: {'Authorization': 'Bearer %s'}" % (shown, shown))
    assert "before ******** after" in text
    for fragment in ("Mask/Me", "Mask%2FMe", "Mask%2fMe", "bnZhcGkt"):
        assert fragment not in text, text


def test_a_presigned_query_is_masked_when_url_encoded_too():
    signed = "https://s3.example.com/bucket/key?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeefcafe"
    for shown in (signed, quote(signed, safe=""), quote(signed, safe="").lower(), repr(signed), quote_plus(signed)):
        text = redact("PUT %s failed" % shown)
        assert "deadbeefcafe" not in text and "AKIAEXAMPLE" not in text, text
        assert text.startswith("PUT ") and text.endswith(" failed")


def test_user_and_password_in_any_url_of_a_message_are_masked():
    text = redact("Unable to connect to proxy http://proxy-user:proxy-p4ss@proxy.example:3128/ (retrying)")
    assert "proxy-user" not in text and "proxy-p4ss" not in text and "proxy.example:3128" in text


def test_proxy_credentials_from_the_environment_never_reach_an_error(monkeypatch):
    user, password = "proxy-user7", "p@ss:w0rd/x"
    proxy = "http://%s:%s@127.0.0.1:9" % (quote(user, safe=""), quote(password, safe=""))
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = AirClient(api_url="http://air.example.invalid", api_token=DEMO_TOKEN, retry=RetryPolicy(attempts=1))
    try:
        with air_raises(AirConnectionError) as info:
            client.images.list()
    finally:
        client.close()
    basic = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    assert_redacted(info.value, extra=(user, password, quote(password, safe=""), basic))
    assert_redacted(redact("Proxy-Authorization: Basic %s; %s; %r" % (basic, proxy, password)),
                    extra=(user, password, quote(password, safe=""), basic))


def test_a_request_refused_on_this_host_is_not_retried(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://")  # requests: "Please check proxy URL. It is malformed ..."
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = AirClient(api_url="http://air.example.invalid", api_token=DEMO_TOKEN, retry=RetryPolicy(base=0.01))
    try:
        with air_raises(AirConfigError, match="could not be sent") as info:
            client.images.list()
        assert client.retries == 0 and info.value.attempts is None
    finally:
        client.close()


# --------------------------------------------- a failing probe is not the user's step
def test_a_persistent_500_during_the_scope_probe_fails_as_the_step_the_user_asked_for(emulator):
    emulator.add_fault(action="status", status=500, method="PATCH", path="/publish/", count=0)
    emulator.add_fault(action="status", status=500, method="DELETE", path="/images/", count=0)
    client = AirClient(api_url=emulator.url, api_token=DEMO_TOKEN, retry=RetryPolicy(attempts=2, base=0.01))
    try:
        for probe, step in ((client.publishing.may_publish_directly, "publish"),
                            (lambda: client.publishing.may_publish_directly(step="unpublish"), "unpublish"),
                            (client.images.may_delete, "delete")):
            with air_raises(AirApiError) as info:
                probe()
            text = str(info.value)
            assert text.startswith("%s failed: " % step) and "(HTTP 500)" in text, text
            assert "check scopes" not in text
            assert "scope" in info.value.detail and info.value.to_failure()["step"] == step
    finally:
        client.close()
