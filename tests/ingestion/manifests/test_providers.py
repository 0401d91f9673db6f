from __future__ import annotations

import pytest

from smartcrop.ingestion.manifests import (
    DEFAULT_PROVIDER_FILE_TYPE,
    GROUP_LAYOUTS,
    LAYOUTS,
    NO_PROVIDER_PREFIX,
    ManifestError,
    ProviderMatch,
    detect_provider,
    is_manifest_name,
    require_provider,
)


def test_default_is_the_contract_table() -> None:
    assert {k: dict(v) for k, v in DEFAULT_PROVIDER_FILE_TYPE.items()} == {
        "group_a": {
            "NBCU_": "NBCU",
            "DISNEY_": "DISNEY",
            "WBD_": "WBD",
            "PARAMOUNT_": "PARAMOUNT",
        },
        "group_b": {"TMDB_": "TMDB"},
        "group_c": {"SLING_": "SLING"},
        "group_d": {"EMAIL_": "EMAIL"},
    }
    assert dict(GROUP_LAYOUTS) == {
        "group_a": "press_site",
        "group_b": "tmdb",
        "group_c": "sling",
        "group_d": "email",
    }
    assert set(LAYOUTS) == set(GROUP_LAYOUTS.values())


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("NBCU_20261120.xlsx", ProviderMatch("group_a", "press_site", "NBCU")),
        ("nbcu_20261120.XLSX", ProviderMatch("group_a", "press_site", "NBCU")),
        ("Disney_x.xlsx", ProviderMatch("group_a", "press_site", "DISNEY")),
        ("PARAMOUNT_1.xlsx", ProviderMatch("group_a", "press_site", "PARAMOUNT")),
        ("WBD_1.xlsx", ProviderMatch("group_a", "press_site", "WBD")),
        ("TMDB_20261120.xlsx", ProviderMatch("group_b", "tmdb", "TMDB")),
        ("sling_a.xlsx", ProviderMatch("group_c", "sling", "SLING")),
        ("EMAIL_a.xlsx", ProviderMatch("group_d", "email", "EMAIL")),
        ("incoming/2026/NBCU_a.xlsx", ProviderMatch("group_a", "press_site", "NBCU")),
        ("C:\\drop\\TMDB_a.xlsx", ProviderMatch("group_b", "tmdb", "TMDB")),
    ],
)
def test_detects_provider_by_prefix(filename: str, expected: ProviderMatch) -> None:
    assert detect_provider(filename, DEFAULT_PROVIDER_FILE_TYPE) == expected


@pytest.mark.parametrize(
    "filename",
    ["UNKNOWNPROVIDER_1.xlsx", "NBCU.xlsx", "NBCU-1.xlsx", "x_NBCU_1.xlsx", "NBCU_/a"],
)
def test_no_prefix_is_none(filename: str) -> None:
    assert detect_provider(filename, DEFAULT_PROVIDER_FILE_TYPE) is None


def test_longest_prefix_wins_whatever_the_order() -> None:
    config = {
        "group_a": {"NBCU_": "NBCU"},
        "group_d": {"nbcu_kids_": "NBCU KIDS"},
    }
    kids = ProviderMatch("group_d", "email", "NBCU KIDS")
    assert detect_provider("NBCU_KIDS_1.xlsx", config) == kids
    assert detect_provider("NBCU_1.xlsx", config).provider == "NBCU"
    reverse = dict(reversed(list(config.items())))
    assert detect_provider("NBCU_KIDS_1.xlsx", reverse) == kids


def test_require_provider_raises_the_contract_kind() -> None:
    with pytest.raises(ManifestError) as caught:
        require_provider("UNKNOWNPROVIDER_20261120.xlsx", DEFAULT_PROVIDER_FILE_TYPE)
    assert caught.value.kind == NO_PROVIDER_PREFIX == "no provider prefix"
    assert "UNKNOWNPROVIDER_20261120.xlsx" in caught.value.message
    assert "NBCU_" in caught.value.message
    assert require_provider("TMDB_1.xlsx", DEFAULT_PROVIDER_FILE_TYPE).layout == "tmdb"


@pytest.mark.parametrize(
    "config",
    [
        {"group_e": {"X_": "X"}},
        {"group_a": {"": "X"}},
        {"group_a": {"X_": " "}},
        {"group_a": {"X_": "X"}, "group_b": {"x_": "Y"}},
    ],
)
def test_a_configuration_without_one_answer_is_refused(config: dict) -> None:
    with pytest.raises(ValueError):
        detect_provider("X_1.xlsx", config)


def test_only_xlsx_names_are_manifests() -> None:
    assert is_manifest_name("NBCU_1.xlsx")
    assert is_manifest_name("dir/NBCU_1.XLSX")
    assert not is_manifest_name("NBCU_1.xls")
    assert not is_manifest_name("NBCU_1.xlsx.tmp")
    assert not is_manifest_name("NBCU_1.csv")


def test_manifest_error_kinds_are_fixed() -> None:
    with pytest.raises(ValueError):
        ManifestError("something else", "x")
    error = ManifestError("no header row", "missing: title")
    assert str(error) == "no header row: missing: title"
