"""A legacy config file loads as it is (issue 14, item 5).

tests/settings/config.legacy.yml holds every key of the legacy description. It loads;
the keys SmartCrop no longer needs are named once each in a WARNING; the selected
``processing_middleware.middleware`` entry is the staging folder that ``run-local``
and the local sensor read; ``PROCESSING_MIDDLEWARE`` selects another entry; every
``aws_config.service_accounts[]`` entry is read; a misspelt key is still an error.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from api.app import create_app
from api.routes.pipelines import staged_files
from smartcrop.ingestion import acquire
from smartcrop.settings import S3Source, Settings, SettingsError, load_settings
from smartcrop.settings import legacy as legacy_keys
from smartcrop.transfer.s3 import make_s3_client

LEGACY_FILE = Path(__file__).parent / "config.legacy.yml"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "manifests"
NO_WEBSERVER = "http://127.0.0.1:9/graphql"

# Every key of the legacy description (contract section 8 and issue 14): "[]" stands
# for each entry of a list, NAME for each entry of the middleware table.
LEGACY_KEYS = {
    "deployment_config.server",
    "aws_config.service_accounts[].uat.smartcrop_bucket",
    "smartcrop_service.cdn.origin_base_url",
    "smartcrop_service.cdn.rewrite_base_url",
    "smartcrop_service.lock_timeout_minutes",
    "smartcrop_service.max_rendition_bytes",
    "smartcrop_service.storage.backend",
    "smartcrop_service.storage.local_root",
    "smartcrop_service.storage.endpoint_url",
    "database.url",
    "database.embedded_dir",
    "processing_middleware.middleware.NAME.root_path",
    "processing_middleware.middleware.NAME.folder_name",
    "processing_middleware.local_filesystem.root_path",
    "filewatcher.s3_sources[].bucket",
    "filewatcher.s3_sources[].prefix",
    "filewatcher.s3_sources[].endpoint",
    "filewatcher.s3_sources[].region",
    "filewatcher.sftp_sources[].host",
    "filewatcher.sftp_sources[].port",
    "filewatcher.sftp_sources[].directory",
    "filewatcher.sftp_sources[].credentials.username_b64",
    "filewatcher.sftp_sources[].credentials.password_b64",
    "filewatcher.sftp_sources[].proxy.host",
    "filewatcher.sftp_sources[].proxy.port",
    "smartcrop_ftp_config.host",
    "smartcrop_ftp_config.ports.output",
    "smartcrop_ftp_config.ports.audit",
    "smartcrop_ftp_config.directories.output",
    "smartcrop_ftp_config.directories.audit",
    "smartcrop_ftp_config.credentials.username_b64",
    "smartcrop_ftp_config.credentials.password_b64",
    "smartcrop_ftp_config.proxy.host",
    "smartcrop_ftp_config.proxy.port",
    "smartcrop_filewatcher_settings.provider_file_type.group_a",
    "smartcrop_filewatcher_settings.provider_file_type.group_b",
    "smartcrop_filewatcher_settings.provider_file_type.group_c",
    "smartcrop_filewatcher_settings.provider_file_type.group_d",
    "smartcrop_filewatcher_batchjob.output_dir",
    "smartcrop_filewatcher_batchjob.max_rows",
    "smartcrop_filewatcher_batchjob.targets",
    "smartcrop_filewatcher_batchjob.view_name",
    "smartcrop_filewatcher_batchjob.programimage_table",
    "smartcrop_filewatcher_batchjob.aspectratio_table",
    "smartcrop_filewatcher_batchjob.imagetype_table",
    "smartcrop_filewatcher_batchjob.role_table",
    "smartcrop_dumpdata.local_path",
    "smartcrop_dumpdata.filenames.program",
    "smartcrop_dumpdata.filenames.aspect",
    "smartcrop_dumpdata.filenames.summary",
    "smartcrop_dumpdata.filenames.audit",
}
# Read by the legacy service, not needed by SmartCrop: accepted, warned about.
IGNORED = [
    "smartcrop_filewatcher_batchjob.view_name",
    "smartcrop_filewatcher_batchjob.programimage_table",
    "smartcrop_filewatcher_batchjob.aspectratio_table",
    "smartcrop_filewatcher_batchjob.imagetype_table",
    "smartcrop_filewatcher_batchjob.role_table",
]


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return set().union(*(_key_paths(item, prefix + "[]") for item in value))
    if not isinstance(value, dict):
        return {prefix}
    paths = set()
    for key, item in value.items():
        name = "NAME" if prefix == "processing_middleware.middleware" else key
        path = f"{prefix}.{name}" if prefix else name
        if path.endswith(("group_a", "group_b", "group_c", "group_d")):
            # A provider group maps prefixes to providers: the group is the key.
            paths.add(path)
        else:
            paths |= _key_paths(item, path)
    return paths


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The legacy file, loaded from a working directory of its own, so that its
    relative folders are under tmp_path; no selection in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROCESSING_MIDDLEWARE", raising=False)
    # Not a mock: the real warned-keys set, emptied so each test starts as a fresh
    # process would (no key warned about yet).
    monkeypatch.setattr(legacy_keys, "_warned_legacy_keys", set())
    path = tmp_path / "config.yml"
    shutil.copy(LEGACY_FILE, path)
    return path


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_legacy_file_holds_every_key_of_the_legacy_description() -> None:
    present = _key_paths(yaml.safe_load(LEGACY_FILE.read_text()))
    assert not LEGACY_KEYS - present, sorted(LEGACY_KEYS - present)


def test_a_legacy_config_file_loads_as_it_is(legacy: Path, tmp_path: Path) -> None:
    settings = load_settings(config_file=str(legacy))
    assert settings.deployment_config.server == "dev"
    assert settings.smartcrop_bucket == "smartcrop-legacy-renditions"
    service = settings.smartcrop_service
    assert service.cdn.rewrite_base_url == "https://images.example.com"
    assert service.lock_timeout_minutes == 45
    assert service.max_rendition_bytes == 5242880
    assert service.storage.local_root == Path("renditions")
    assert settings.database.embedded_dir == Path("pgdata")
    drops, returns = settings.filewatcher.s3_sources
    # "endpoint" is the legacy spelling of endpoint_url.
    assert drops.endpoint_url == "http://127.0.0.1:9000"
    assert returns.endpoint_url is None and returns.region == "us-east-1"
    sftp = settings.filewatcher.sftp_sources[0]
    assert sftp.credentials.username == "provider"
    assert sftp.credentials.password_text == "provider-pw"
    assert sftp.proxy is not None and sftp.proxy.port == 3128
    ftp = settings.smartcrop_ftp_config
    assert (ftp.ports.audit, ftp.directories.output) == (2222, "/inbound/smartcrop")
    assert ftp.credentials.password_text == "smartcrop-pw"
    groups = settings.smartcrop_filewatcher_settings.provider_file_type.as_mapping()
    assert groups["group_a"] == {"NBCU_": "NBCU", "DISNEY_": "DISNEY"}
    batch = settings.smartcrop_filewatcher_batchjob
    assert (batch.max_rows, batch.targets) == (None, ["s3", "sftp"])
    assert settings.smartcrop_dumpdata.filenames.summary == "SmartCrop_Summary"
    assert settings.staging_root == tmp_path / "srv" / "smartcrop" / "input_files"


def test_each_ignored_legacy_key_is_named_once_in_a_warning(
    legacy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smartcrop.settings")
    # Loaded again and again (a sensor tick, a run), the file warns only once.
    for _ in range(3):
        load_settings(config_file=str(legacy))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for key in IGNORED:
        named = [m for m in warnings if f"ignored legacy key {key}" in m]
        assert len(named) == 1, (key, warnings)
    # Nothing else is warned about: every other legacy key is read.
    assert len(warnings) == len(IGNORED), warnings


def test_the_selected_middleware_folder_is_the_one_run_local_reads(
    legacy: Path, tmp_path: Path
) -> None:
    settings = load_settings(config_file=str(legacy))
    folder = tmp_path / "srv" / "smartcrop" / "input_files"
    folder.mkdir(parents=True)
    shutil.copy2(SAMPLES / "NBCU_20261120.xlsx", folder)
    local_root = tmp_path / "staging"
    local_root.mkdir()
    shutil.copy2(SAMPLES / "TMDB_20261120.xlsx", local_root)
    # staged_files is what POST /filewatcher/run-local lists.
    listed = staged_files(settings.staging_root, ".")
    assert [p.name for p in listed] == ["NBCU_20261120.xlsx"]


def test_processing_middleware_selects_another_entry(
    legacy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCESSING_MIDDLEWARE", "local_machine")
    settings = load_settings(config_file=str(legacy))
    assert settings.staging_root == tmp_path / "home/operator/smartcrop/drop"
    # The selector is no section override: nested variables still overlay the file.
    monkeypatch.setenv(
        "PROCESSING_MIDDLEWARE__MIDDLEWARE__LOCAL_MACHINE__FOLDER_NAME", "other"
    )
    settings = load_settings(config_file=str(legacy))
    assert settings.staging_root == tmp_path / "home/operator/smartcrop/other"


def test_without_the_selected_entry_the_local_filesystem_root_is_staging(
    legacy: Path, tmp_path: Path
) -> None:
    # No ec2_instance entry and no PROCESSING_MIDDLEWARE: the fallback.
    _edit(legacy, "    ec2_instance:\n", "    ec2_elsewhere:\n")
    assert load_settings(config_file=str(legacy)).staging_root == tmp_path / "staging"


def test_an_entry_without_root_path_takes_the_local_filesystem_root(
    legacy: Path, tmp_path: Path
) -> None:
    _edit(legacy, "      root_path: srv/smartcrop\n", "")
    settings = load_settings(config_file=str(legacy))
    assert settings.staging_root == tmp_path / "staging" / "input_files"


def test_a_kind_name_from_an_earlier_example_config_still_loads(
    legacy: Path, tmp_path: Path
) -> None:
    # config.example.yml once held "middleware: local_filesystem", read by nothing.
    text = legacy.read_text()
    start = text.index("  middleware:\n")
    end = text.index("  local_filesystem:\n")
    legacy.write_text(text[:start] + "  middleware: local_filesystem\n" + text[end:])
    assert load_settings(config_file=str(legacy)).staging_root == tmp_path / "staging"


def test_processing_middleware_naming_no_entry_is_a_clear_error(
    legacy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROCESSING_MIDDLEWARE", "ec2_instanse")
    with pytest.raises(SettingsError) as caught:
        load_settings(config_file=str(legacy))
    message = str(caught.value)
    assert "PROCESSING_MIDDLEWARE" in message and "ec2_instanse" in message
    assert "ec2_instance" in message and "local_machine" in message


def test_every_service_account_is_read(legacy: Path) -> None:
    settings = load_settings(config_file=str(legacy))
    drops, returns = settings.filewatcher.s3_sources

    def client(source: S3Source) -> Any:
        return acquire.s3_client_for(settings, source, make_s3_client)

    # The source's bucket is the second account's: that account's region.
    assert settings.s3_access("provider-drops").region == "eu-west-1"
    assert client(drops).meta.region_name == "eu-west-1"
    # A source's own region wins over its account's.
    assert client(returns).meta.region_name == "us-east-1"
    # Renditions and manifests still go to the first account's bucket.
    assert settings.smartcrop_bucket == "smartcrop-legacy-renditions"


def test_a_service_account_s_own_keys_serve_its_bucket_only() -> None:
    settings = load_settings(
        aws_config={
            "region": "us-east-2",
            "access_key_id": "AKIAGLOBAL",
            "secret_access_key": "global-secret",
            "service_accounts": [
                {"uat": {"smartcrop_bucket": "renditions"}},
                {
                    "uat": {
                        "smartcrop_bucket": "partner-drops",
                        "region": "ap-south-1",
                        "access_key_id": "AKIAPARTNER",
                        "secret_access_key": "partner-secret",
                    }
                },
            ],
        }
    )
    partner = settings.s3_access("partner-drops")
    assert (partner.region, partner.access_key) == ("ap-south-1", "AKIAPARTNER")
    assert partner.secret_key == "partner-secret"
    assert "partner-secret" not in repr(partner)
    # The first account has no keys of its own; a bucket no account names neither.
    for bucket in ("renditions", "elsewhere"):
        access = settings.s3_access(bucket)
        assert (access.region, access.access_key) == ("us-east-2", "AKIAGLOBAL")


def test_half_a_key_pair_on_a_service_account_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="aws_config.service_accounts.0.uat"):
        load_settings(
            aws_config={
                "service_accounts": [
                    {"uat": {"smartcrop_bucket": "b", "access_key_id": "AKIA"}}
                ]
            }
        )


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (
            "folder_name: input_files",
            "folder_nme: input_files",
            "processing_middleware.middleware.ec2_instance.folder_nme",
        ),
        (
            "view_name: vw_smartcrop_batch",
            "view_nam: vw_smartcrop_batch",
            "smartcrop_filewatcher_batchjob.view_nam",
        ),
        (
            "endpoint: http://127.0.0.1:9000",
            "endpont: http://127.0.0.1:9000",
            "filewatcher.s3_sources.0.endpont",
        ),
        (
            "smartcrop_bucket: provider-drops",
            "smartcrop_bukcet: provider-drops",
            "aws_config.service_accounts.1.uat.smartcrop_bukcet",
        ),
    ],
)
def test_a_misspelt_key_in_a_legacy_file_is_still_a_clear_error(
    legacy: Path, old: str, new: str, named: str
) -> None:
    _edit(legacy, old, new)
    with pytest.raises(SettingsError) as caught:
        load_settings(config_file=str(legacy))
    message = str(caught.value)
    assert named in message and "unknown key" in message, message


def test_endpoint_and_endpoint_url_that_disagree_are_a_clear_error(
    legacy: Path,
) -> None:
    _edit(
        legacy,
        "      endpoint: http://127.0.0.1:9000\n",
        "      endpoint: http://127.0.0.1:9000\n"
        "      endpoint_url: http://127.0.0.1:9001\n",
    )
    with pytest.raises(SettingsError, match="filewatcher.s3_sources.0"):
        load_settings(config_file=str(legacy))


# --- run-local over HTTP, with the app built from the legacy file ---------------------


@pytest.fixture
def legacy_settings(legacy: Path, db_url: str) -> Settings:
    # The test's database and no Dagster webserver: the only keys not from the file.
    return load_settings(
        config_file=str(legacy),
        database={"url": db_url},
        smartcrop_service={"dagster": {"graphql_url": NO_WEBSERVER}},
    )


@pytest.fixture
def api_app(legacy_settings: Settings, db_url: str) -> Iterator[FastAPI]:
    """Overrides tests/support/api.py's app: settings from the legacy file."""
    yield create_app(legacy_settings, db_url)


def test_run_local_reads_the_legacy_middleware_folder(
    client, token_for, legacy_settings: Settings, tmp_path: Path
) -> None:
    admin = token_for("admin")[1]
    middleware = tmp_path / "srv" / "smartcrop" / "input_files"
    middleware.mkdir(parents=True)
    shutil.copy2(SAMPLES / "NBCU_20261120.xlsx", middleware)
    (tmp_path / "staging").mkdir()
    # The local_filesystem root is outside the selected folder: refused, and the
    # refusal names the folder run-local reads.
    outside = client.post(
        "/filewatcher/run-local",
        params={"folder_path": str(tmp_path / "staging")},
        headers=admin,
    )
    assert outside.status_code == 400
    assert str(middleware) in outside.json()["Message"]
    # The middleware folder itself is accepted and its file listed; the run cannot
    # start without a Dagster webserver (503, nothing started).
    inside = client.post(
        "/filewatcher/run-local", params={"folder_path": "."}, headers=admin
    )
    assert inside.status_code == 503, inside.text
