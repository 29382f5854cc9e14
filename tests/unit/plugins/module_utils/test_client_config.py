# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AirClient settings: base URL, headers, TLS verification, token discovery."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
import requests

from air_unit_helpers import DEMO_TOKEN, RecordingHandler, air_raises

from ansible_collections.nvidia.air.plugins.module_utils._client import (
    AirClient,
    normalize_api_url,
    resolve_api_url,
    resolve_token,
)
from ansible_collections.nvidia.air.plugins.module_utils._errors import AirConfigError, AirConnectionError, AirInputError
from ansible_collections.nvidia.air.plugins.module_utils._retry import RetryPolicy
from ansible_collections.nvidia.air.plugins.module_utils._uploader import ImageUploader

NO_CONFIG = "/nonexistent/ngc/config"


# ------------------------------------------------------------------- base URL
@pytest.mark.parametrize("given, expected", [
    ("https://host", "https://host/api/v3/"),
    ("https://host/", "https://host/api/v3/"),
    ("https://host//", "https://host/api/v3/"),
    ("  https://host  ", "https://host/api/v3/"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/api/v3/"),
    ("https://host/api/v3", "https://host/api/v3/"),
    ("https://host/api/v3/", "https://host/api/v3/"),
    ("https://host/api/v3///", "https://host/api/v3/"),
    ("https://host/api/v2", "https://host/api/v2/"),
    ("https://host/api/v10/", "https://host/api/v10/"),
    ("https://host:8443/api/v3/?x=1#frag", "https://host:8443/api/v3/"),
    # Not a versioned path: replaced by /api/v3 like the SDK's normalize_api_url().
    ("https://host/some/prefix/", "https://host/api/v3/"),
    ("https://host/api/version3", "https://host/api/v3/"),
])
def test_normalize_api_url(given, expected):
    assert normalize_api_url(given) == expected


@pytest.mark.parametrize("bad", ["", "   ", None, "host.example.com", "ftp://host/api/v3/", "https://", "//host/x",
                                 "not a url", "https://user:pw@host/", "https://user@host/", "https://host:99999/",
                                 "https://host:port/", "https://host/api/v3/../x", "https://host/api/v3/%2e%2e/x",
                                 "https://host/api/v3/%2E/x", "https://:443/"])
def test_bad_api_url_is_a_config_error(bad):
    with air_raises(AirConfigError):
        normalize_api_url(bad)
    with air_raises(AirConfigError):
        AirClient(api_url=bad or "ftp://x", api_token=DEMO_TOKEN)


def test_bad_api_url_error_hides_credentials_in_the_url():
    with air_raises(AirConfigError, extra_secrets=("hunter2", "s3cr3t-query")) as info:
        normalize_api_url("ftp://user:hunter2@host/api/v3/?token=s3cr3t-query")
    assert "not an http(s) URL" in str(info.value)


def test_api_url_from_environment_and_precedence(emulator):
    environ = {"AIR_API_URL": emulator.url, "AIR_API_TOKEN": DEMO_TOKEN}
    client = AirClient(environ=environ, ngc_config=NO_CONFIG, retry=RetryPolicy(base=0.02))
    try:
        assert client.api_url == emulator.url + "/api/v3/"
        assert client.token_source == "AIR_API_TOKEN"
        assert client.images.list() == []  # the env URL and env token really work
    finally:
        client.close()
    # An explicit api_url wins over the environment; nothing set -> the public endpoint.
    assert resolve_api_url("https://other.example.com", environ) == "https://other.example.com/api/v3/"
    assert resolve_api_url(None, {}) == "https://api.dsx-air.nvidia.com/api/v3/"


def test_url_joins_segments_with_trailing_slashes():
    client = AirClient(api_url="https://air.example.com", api_token=DEMO_TOKEN)
    url = client.transport.url
    assert url("images") == "https://air.example.com/api/v3/images/"
    assert url("images", "abc", "start-upload") == "https://air.example.com/api/v3/images/abc/start-upload/"
    client.close()


@pytest.mark.parametrize("segment", ["../images/935b994e-9e1e-4d85-9275-10f7b3111cd9", "..", ".", "a/b", "/images/",
                                     "%2e%2e", "a?b=c", "a#b", "", " x", "x\\y"])
def test_url_refuses_segments_that_are_not_one_plain_path_segment(segment):
    client = AirClient(api_url="https://air.example.com", api_token=DEMO_TOKEN)
    with air_raises(AirInputError, match="is not a valid id"):
        client.transport.url("images", segment)
    client.close()


# ------------------------------------------------- headers on the wire (+ TLS)
@pytest.fixture
def recorder():
    def start(context=None):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
        server.daemon_threads = True
        server.seen = []
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if context is not None else "http"
        return server, "%s://127.0.0.1:%d" % (scheme, server.server_address[1])

    servers = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_requests_carry_user_agent_token_and_trailing_slash(recorder):
    server, url = recorder()
    client = AirClient(api_url=url, api_token=DEMO_TOKEN)
    assert client.images.list(name="x") == []
    client.close()
    (request,) = server.seen
    headers = dict((k.lower(), v) for k, v in request["headers"].items())
    assert headers["user-agent"].startswith("ansible-collection-nvidia.air/")
    assert "nvidia.air" in headers["user-agent"] and "requests" in headers["user-agent"]
    assert headers["authorization"] == "Bearer " + DEMO_TOKEN
    assert headers["accept"] == "application/json"
    path, _sep, query = request["path"].partition("?")
    assert path == "/api/v3/images/"
    assert sorted(query.split("&")) == ["limit=200", "name=x"]


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (cert.pem doubles as the CA bundle)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    return str(cert_path), context


def test_validate_certs_and_ca_path_set_verify(recorder, tls_cert, monkeypatch):
    cert_path, context = tls_cert
    server, url = recorder(context)
    # Like many CI images: a CA bundle in the environment. It must not undo validate_certs: false.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())

    default = AirClient(api_url=url, api_token=DEMO_TOKEN, retry=RetryPolicy(attempts=1))
    assert default.verify is True and default.transport.session.verify is True
    with air_raises(AirConnectionError, match="TLS verification") as info:
        default.images.list()
    assert "ca_path" in str(info.value)
    default.close()

    with_ca = AirClient(api_url=url, api_token=DEMO_TOKEN, ca_path=cert_path)
    assert with_ca.verify == cert_path and with_ca.transport.session.verify == cert_path
    assert with_ca.images.list() == []
    uploader = ImageUploader(with_ca, cache_dir="/nonexistent")
    assert uploader.parts.session().verify == cert_path  # part PUTs verify storage with the same CA
    with_ca.close()

    insecure = AirClient(api_url=url, api_token=DEMO_TOKEN, validate_certs=False)
    assert insecure.verify is False and insecure.transport.session.verify is False
    with pytest.warns(Warning):  # urllib3's InsecureRequestWarning
        assert insecure.images.list() == []
    assert ImageUploader(insecure, cache_dir="/nonexistent").parts.session().verify is False
    insecure.close()
    assert len(server.seen) == 2


# ------------------------------------------------------------- token discovery
NGC_ONE_PROFILE = """\
;WARNING - This is a machine generated file.  Do not edit manually.
;WARNING - To update local config settings, see "ngc config set -h"

[CURRENT]
apikey = {key}
format_type = ascii
org = demo-org
;apikey = nvapi-commented-out-key
   ; an indented comment line

[old]
; apikey = nvapi-older-commented-key
org = partner-org
"""

NGC_TWO_PROFILES = """\
;WARNING - This is a machine generated file.
[CURRENT]
apikey = nvapi-first-key
[work]
apikey = nvapi-second-key
"""


@pytest.fixture
def ngc_config(tmp_path):
    def write(text):
        path = tmp_path / "ngc-config"
        path.write_text(text)
        return str(path)

    return write


def test_explicit_token_wins_over_env_and_ngc_config(ngc_config):
    path = ngc_config(NGC_ONE_PROFILE.format(key="nvapi-from-ngc"))
    environ = {"AIR_API_TOKEN": "nvapi-from-env"}
    assert resolve_token(DEMO_TOKEN, environ, path) == (DEMO_TOKEN, "api_token")
    client = AirClient(api_url="https://host", api_token=DEMO_TOKEN, environ=environ, ngc_config=path)
    assert client.token_source == "api_token"
    assert client.transport.session.headers["Authorization"] == "Bearer " + DEMO_TOKEN
    client.close()


def test_env_token_wins_over_ngc_config(ngc_config):
    path = ngc_config(NGC_ONE_PROFILE.format(key="nvapi-from-ngc"))
    assert resolve_token(None, {"AIR_API_TOKEN": "nvapi-from-env"}, path) == ("nvapi-from-env", "AIR_API_TOKEN")
    # An empty variable does not count.
    assert resolve_token(None, {"AIR_API_TOKEN": ""}, path) == ("nvapi-from-ngc", "~/.ngc/config")


def test_single_ngc_apikey_is_used_and_comments_are_ignored(ngc_config, emulator):
    path = ngc_config(NGC_ONE_PROFILE.format(key=DEMO_TOKEN))
    token, source = resolve_token(None, {}, path)
    assert (token, source) == (DEMO_TOKEN, "~/.ngc/config")
    client = AirClient(api_url=emulator.url, environ={}, ngc_config=path)
    try:
        assert client.token_source == "~/.ngc/config"
        assert client.images.list() == []  # the key from the file authenticates
    finally:
        client.close()


def test_several_ngc_profiles_are_ambiguous(ngc_config):
    path = ngc_config(NGC_TWO_PROFILES)
    with air_raises(AirConfigError, extra_secrets=("nvapi-first-key", "nvapi-second-key")) as info:
        resolve_token(None, {}, path)
    text = str(info.value)
    assert "'CURRENT'" in text and "'work'" in text
    assert "AIR_API_TOKEN" in text and "api_token" in text
    with air_raises(AirConfigError, match="several profiles"):
        AirClient(api_url="https://host", environ={}, ngc_config=path)


@pytest.mark.parametrize("content", [None, "", "[CURRENT]\norg = demo-org\n", ";apikey = nvapi-commented\n"])
def test_no_token_anywhere_is_a_clear_error(ngc_config, content):
    path = NO_CONFIG if content is None else ngc_config(content)
    with air_raises(AirConfigError) as info:
        AirClient(api_url="https://host", environ={}, ngc_config=path)
    text = str(info.value)
    assert text.startswith("no Air API token")
    assert "api_token" in text and "AIR_API_TOKEN" in text and "~/.ngc/config" in text


@pytest.mark.parametrize("content", [
    "apikey = nvapi-broken-key\n[CURRENT]\n",  # key before any section header
    "[CURRENT]\napikey = nvapi-broken-key\napikey = nvapi-broken-key\n",  # duplicate option
    "[CURRENT]\napikey = nvapi-broken-key\nthis line is no option nvapi-broken-key\n",
])
def test_malformed_ngc_config_is_a_config_error_without_the_key(ngc_config, content):
    path = ngc_config(content)
    with air_raises(AirConfigError, match="cannot read", extra_secrets=("nvapi-broken-key",)):
        resolve_token(None, {}, path)
