# -*- coding: utf-8 -*-
# Copyright (c) 2026, NVIDIA Air collection contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The AWX / Automation Platform material in docs/awx/: the credential type and the job template.

The credential type's injectors are rendered the way AWX renders them (a sandboxed Jinja environment in
which an unknown name is an error) and checked against what the modules and roles read. Then the job
template's playbook runs against the Air API emulator with nothing but what such a job gets: the survey's
answers and the credential's injected environment and extra vars.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jinja2.sandbox
import pytest
import yaml
from air_emulator.testing import DEMO_TOKEN, Emulator

REPO = Path(__file__).resolve().parents[2]
AWX = REPO / "docs" / "awx"
COLLECTIONS = REPO / "collections"
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

if not (COLLECTIONS / "ansible_collections" / "nvidia" / "air").exists():
    (COLLECTIONS / "ansible_collections" / "nvidia").mkdir(parents=True, exist_ok=True)
    (COLLECTIONS / "ansible_collections" / "nvidia" / "air").symlink_to("../../..")
sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.nvidia.air.plugins.module_utils import _client  # noqa: E402


def load(name):
    return yaml.safe_load((AWX / name).read_text())


CREDENTIAL_TYPE = load("credential_type.yml")
JOB_TEMPLATE = load("job_template.yml")


def render_injectors(credential_type, inputs):
    """(env, extra_vars) a job with a credential of this type gets for these inputs, as AWX renders them."""
    engine = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    injectors = credential_type["injectors"]
    return tuple(
        {name: engine.from_string(template).render(**inputs) for name, template in injectors.get(kind, {}).items()}
        for kind in ("env", "extra_vars"))


def role_options():
    """{role: {option: spec}} from every role's meta/argument_specs.yml (entry point main)."""
    return {path.parent.parent.name: yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"]
            for path in sorted((REPO / "roles").glob("*/meta/argument_specs.yml"))}


# ----------------------------------------------------------------- credential type
def test_credential_type_inputs_are_an_url_and_a_secret_token():
    fields = {field["id"]: field for field in CREDENTIAL_TYPE["inputs"]["fields"]}
    assert set(fields) == {"api_url", "api_token"}
    assert fields["api_token"].get("secret") is True
    assert not fields["api_url"].get("secret")
    assert all(field["type"] == "string" and field["label"] for field in fields.values())
    assert sorted(CREDENTIAL_TYPE["inputs"]["required"]) == ["api_token", "api_url"]
    assert CREDENTIAL_TYPE["kind"] == "cloud"
    assert fields["api_url"]["default"] == _client.DEFAULT_API_URL


def test_injected_environment_is_what_the_modules_read(tmp_path):
    env, _extra_vars = render_injectors(CREDENTIAL_TYPE, {"api_url": "https://air.example.com",
                                                          "api_token": "nvapi-secret"})
    assert set(env) == {_client.URL_ENV, _client.TOKEN_ENV}
    assert _client.resolve_api_url(environ=env) == _client.normalize_api_url("https://air.example.com")
    token, source = _client.resolve_token(environ=env, ngc_config=str(tmp_path / "no-ngc-config"))
    assert (token, source) == ("nvapi-secret", _client.TOKEN_ENV)
    # The modules document the same variables.
    fragment = (REPO / "plugins" / "doc_fragments" / "_auth.py").read_text()
    for name in env:
        assert "E(%s)" % name in fragment


def test_injected_extra_vars_are_the_roles_connection_variables():
    _env, extra_vars = render_injectors(CREDENTIAL_TYPE, {"api_url": "https://air.example.com",
                                                          "api_token": "nvapi-secret"})
    options = role_options()
    fed = {role for role, spec in options.items() if "%s_api_url" % role in spec}
    assert fed == {"image_release", "image_claim"}
    for role in fed:
        assert extra_vars.pop("%s_api_url" % role) == "https://air.example.com"
        assert extra_vars.pop("%s_api_token" % role) == "nvapi-secret"
        assert options[role]["%s_api_token" % role].get("no_log") is True
    assert extra_vars == {}, "injected variables no role reads"


def test_injectors_name_only_defined_inputs():
    with pytest.raises(jinja2.UndefinedError):
        render_injectors(CREDENTIAL_TYPE, {"api_url": "https://air.example.com"})


# ----------------------------------------------------------------- job template
def readme_yaml_blocks(marker):
    """The YAML code blocks of docs/awx/README.md that contain marker, as text."""
    blocks = re.findall(r"```yaml\n(.*?)```", (AWX / "README.md").read_text(), re.DOTALL)
    return [block for block in blocks if marker in block]


def project_file(name):
    """The project file README.md shows in a block starting with `# <name>:`."""
    (block,) = [b for b in readme_yaml_blocks("# %s:" % name) if b.startswith("# %s:" % name)]
    return block


def test_job_template_runs_the_release_playbook_with_a_survey_of_its_variables():
    playbook = yaml.safe_load(project_file(JOB_TEMPLATE["playbook"]))
    assert [play.get("ansible.builtin.import_playbook") for play in playbook] == ["nvidia.air.release"]
    requirements = yaml.safe_load(project_file("collections/requirements.yml"))
    assert [c["name"] for c in requirements["collections"]] == ["nvidia.air"]

    spec = JOB_TEMPLATE["survey_spec"]["spec"]
    variables = [question["variable"] for question in spec]
    assert len(variables) == len(set(variables))
    release = role_options()["image_release"]
    assert set(variables) <= set(release), set(variables) - set(release)
    required = {name for name, option in release.items() if option.get("required")}
    assert required <= {q["variable"] for q in spec if q["required"]}
    for question in spec:
        if release[question["variable"]].get("no_log"):
            assert question["type"] == "password", question["variable"]
    assert JOB_TEMPLATE["survey_enabled"] is True


def test_setup_playbook_in_the_readme_creates_the_credential_type_and_job_template_from_the_files():
    plays = [yaml.safe_load(block) for block in readme_yaml_blocks("awx.awx.credential_type")]
    assert len(plays) == 1
    tasks = {next(k for k in task if k.startswith("awx.awx.")): task for task in plays[0][0]["tasks"]}
    assert set(tasks) == {"awx.awx.credential_type", "awx.awx.credential", "awx.awx.job_template"}
    assert "'credential_type.yml'" in plays[0][0]["vars"]["credential_type"]
    assert "'job_template.yml'" in plays[0][0]["vars"]["job_template"]
    assert tasks["awx.awx.credential_type"]["awx.awx.credential_type"]["injectors"] == (
        "{{ credential_type.injectors }}")
    assert tasks["awx.awx.job_template"]["awx.awx.job_template"]["survey_spec"] == "{{ job_template.survey_spec }}"
    inputs = tasks["awx.awx.credential"]["awx.awx.credential"]["inputs"]
    assert set(inputs) == {field["id"] for field in CREDENTIAL_TYPE["inputs"]["fields"]}


# ----------------------------------------------------------------- a job against the emulator
@pytest.fixture(scope="module")
def emulator():
    emu = Emulator("--chunk-size", str(5 * 1024 * 1024), "--validation-delay", "0.2", "--transition-delay", "0.2")
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def survey_answers(image_file, name):
    """The extra vars the survey gives (AWX passes every answer as a string)."""
    answers = {question["variable"]: question.get("default", "") for question in JOB_TEMPLATE["survey_spec"]["spec"]}
    answers.update(image_release_name=name, image_release_version="1.0.0", image_release_file=str(image_file),
                   image_release_default_password="job-Passw0rd", image_release_publish="true",
                   image_release_share_with="partner-org")
    assert all(isinstance(value, str) for value in answers.values())
    return answers


def run_job(tmp_path, extra_vars, injected_env):
    """ansible-playbook as the job runs it: the job's extra vars, the injected environment and nothing else
    (no AIR_* variable of the caller, HOME without ~/.ngc/config)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    playbook = tmp_path / "project" / JOB_TEMPLATE["playbook"]
    playbook.parent.mkdir(exist_ok=True)
    playbook.write_text(project_file(JOB_TEMPLATE["playbook"]))
    (tmp_path / "extra_vars.json").write_text(json.dumps(extra_vars))
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
           "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_LOCALHOST_WARNING": "false",
           "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
           # the async upload's status file: async_status would look under the real home directory
           "ANSIBLE_ASYNC_DIR": str(home / ".ansible_async"), **injected_env}
    done = subprocess.run(
        [ANSIBLE_PLAYBOOK, str(playbook), "-e", "@%s" % (tmp_path / "extra_vars.json")],
        env=env, cwd=str(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    recap = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", done.stdout)
    assert recap, done.stdout[-2000:]
    return done.stdout, int(recap.group(1))


def test_job_template_playbook_releases_with_only_the_injected_credential(emulator, tmp_path):
    image_file = tmp_path / "image.qcow2"
    image_file.write_bytes(os.urandom(6 * 1024 * 1024 + 77))
    name = "awx-job-%s" % tmp_path.name[-8:].replace("_", "")
    env, extra_vars = render_injectors(CREDENTIAL_TYPE, {"api_url": emulator.url, "api_token": DEMO_TOKEN})
    job_vars = dict(survey_answers(image_file, name), **extra_vars)

    first, changed = run_job(tmp_path, job_vars, env)
    assert changed > 0
    assert DEMO_TOKEN not in first and "job-Passw0rd" not in first

    images = emulator.api("GET", "images", params={"name": name}).json()["results"]
    assert [(i["upload_status"], i["published"], i["size"]) for i in images] == [
        ("COMPLETE", True, image_file.stat().st_size)], images
    shares = emulator.api("GET", "images/shares", params={"image": images[0]["id"]}).json()["results"]
    assert [(s["target_org"], s["state"]) for s in shares] == [("partner-org", "ACTIVE")], shares

    # The roles get the credential from the injected extra vars alone (as on a delegate_to host, which
    # does not see the job's environment): a second launch finds everything done.
    second, changed = run_job(tmp_path, job_vars, {})
    assert changed == 0, second[-3000:]
    assert "no change" in second
