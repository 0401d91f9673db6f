"""The settings tree: file, environment overlay, base64 credentials, clear errors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from smartcrop.settings import SettingsError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def use(text: str) -> Path:
        path = _write(tmp_path, text)
        monkeypatch.setenv("SMARTCROP_CONFIG", str(path))
        return path

    return use


def test_defaults_match_the_contract(config_file) -> None:
    config_file("{}\n")
    settings = load_settings()
    assert settings.deployment_config.server == "dev"
    assert settings.smartcrop_service.lock_timeout_minutes == 30
    assert settings.smartcrop_service.max_rendition_bytes == 10 * 1024 * 1024
    assert settings.smartcrop_service.storage.backend == "local"
    assert settings.database.url.get_secret_value() == ""
    assert settings.database.embedded_dir == Path(".smartcrop/pgdata")
    groups = settings.smartcrop_filewatcher_settings.provider_file_type.as_mapping()
    assert groups["group_a"]["NBCU_"] == "NBCU"
    assert groups["group_b"] == {"TMDB_": "TMDB"}
    assert settings.smartcrop_dumpdata.filenames.audit == "SmartCrop_Audit"
    assert settings.smartcrop_filewatcher_batchjob.max_rows is None


def test_file_values_are_read_and_env_overrides_them(
    config_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file("""
deployment_config: {server: dev}
smartcrop_service:
  lock_timeout_minutes: 12
  cdn: {origin_base_url: "https://s3.example.com/b", rewrite_base_url: "https://cdn.example.com"}
aws_config:
  service_accounts:
    - uat: {smartcrop_bucket: legacy-bucket}
filewatcher:
  s3_sources:
    - {bucket: drops, prefix: incoming/, endpoint_url: "http://127.0.0.1:9000"}
smartcrop_filewatcher_batchjob: {max_rows: "", targets: [s3, sftp]}
""")
    monkeypatch.setenv("SMARTCROP_SERVICE__LOCK_TIMEOUT_MINUTES", "7")
    monkeypatch.setenv("DEPLOYMENT_CONFIG__SERVER", "dev")
    monkeypatch.setenv("DATABASE__URL", "postgresql://u:p@db.example.com/smartcrop")
    settings = load_settings()
    assert settings.smartcrop_service.lock_timeout_minutes == 7
    assert settings.smartcrop_service.cdn.rewrite_base_url == "https://cdn.example.com"
    assert settings.smartcrop_bucket == "legacy-bucket"
    assert settings.filewatcher.s3_sources[0].prefix == "incoming/"
    assert settings.smartcrop_filewatcher_batchjob.max_rows is None
    assert settings.smartcrop_filewatcher_batchjob.targets == ["s3", "sftp"]
    assert settings.database.url.get_secret_value().startswith("postgresql://u:p@")


def test_base64_credentials_are_decoded_and_hidden(config_file) -> None:
    config_file(f"""
smartcrop_ftp_config:
  host: sftp.example.com
  credentials:
    username_b64: "{_b64("svc-user")}"
    password_b64: "{_b64("s3cr3t!pw")}"
filewatcher:
  sftp_sources:
    - host: 127.0.0.1
      port: 2222
      directory: /drop
      credentials: {{username: plain, password_b64: "{_b64("other-pw")}"}}
      proxy: {{host: proxy.example.com, port: 3128}}
""")
    settings = load_settings()
    creds = settings.smartcrop_ftp_config.credentials
    assert creds.username == "svc-user"
    assert creds.password_text == "s3cr3t!pw"
    source = settings.filewatcher.sftp_sources[0]
    assert source.credentials.username == "plain"
    assert source.credentials.password_text == "other-pw"
    assert source.proxy is not None and source.proxy.port == 3128
    # Printing settings (as a log line might) never shows a secret.
    shown = repr(settings) + str(settings.model_dump())
    assert "s3cr3t!pw" not in shown and "other-pw" not in shown


def test_plain_env_credentials_win_over_base64(
    config_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded = _b64("from-file")
    config_file(
        f"smartcrop_ftp_config: {{credentials: {{password_b64: '{encoded}'}}}}\n"
    )
    monkeypatch.setenv("SMARTCROP_FTP_CONFIG__CREDENTIALS__PASSWORD", "from-env-123")
    creds = load_settings().smartcrop_ftp_config.credentials
    assert creds.password_text == "from-env-123"


@pytest.mark.parametrize(
    ("text", "env", "named"),
    [
        (
            "smartcrop_service: {lock_timeout_minutes: soon}\n",
            {},
            "smartcrop_service.lock_timeout_minutes",
        ),
        (
            "smartcrop_service: {lock_timout_minutes: 5}\n",
            {},
            "smartcrop_service.lock_timout_minutes",
        ),
        (
            "smartcrop_service: {storage: {backend: ftp}}\n",
            {},
            "smartcrop_service.storage.backend",
        ),
        (
            "smartcrop_ftp_config: {credentials: {password_b64: '***not base64'}}\n",
            {},
            "smartcrop_ftp_config.credentials.password_b64",
        ),
        (
            "{}\n",
            {"SMARTCROP_SERVICE__MAX_RENDITION_BYTES": "-1"},
            "smartcrop_service.max_rendition_bytes",
        ),
        (
            "filewatcher: {s3_sources: [{prefix: x/}]}\n",
            {},
            "filewatcher.s3_sources.0.bucket",
        ),
        ("deployment_config: {server: aws}\n", {}, "smartcrop_service.auth.jwt_secret"),
        (
            "smartcrop_service: {required_aspect_ratios: ['16:9']}\n",
            {},
            "smartcrop_service.required_aspect_ratios",
        ),
        ("smartcrop_dumpdata: {date_range: 31}\n", {}, "smartcrop_dumpdata.date_range"),
    ],
)
def test_a_bad_key_gives_one_clear_error_naming_it(
    config_file, monkeypatch: pytest.MonkeyPatch, text: str, env: dict, named: str
) -> None:
    config_file(text)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message
    assert "Traceback" not in message
    assert "not base64" not in message or "***" not in message


def test_missing_config_file_named_by_env_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMARTCROP_CONFIG", str(tmp_path / "nope.yml"))
    with pytest.raises(SettingsError, match="nope.yml"):
        load_settings()


def test_yaml_syntax_error_is_a_clear_error(config_file) -> None:
    config_file("smartcrop_service: [unclosed\n")
    with pytest.raises(SettingsError, match="cannot read configuration"):
        load_settings()


def _field_names(model: type) -> set[str]:
    from pydantic import BaseModel

    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for arg in (field.annotation, *getattr(field.annotation, "__args__", ())):
            for inner in (arg, *getattr(arg, "__args__", ())):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    names |= _field_names(inner)
    return names


def test_example_config_is_valid_and_documents_every_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smartcrop.settings import Settings

    example = Path(__file__).resolve().parents[2] / "config.example.yml"
    monkeypatch.setenv("SMARTCROP_CONFIG", str(example))
    load_settings()
    text = example.read_text()
    missing = sorted(n for n in _field_names(Settings) if f"{n}:" not in text)
    assert not missing, f"config.example.yml does not document {missing}"
