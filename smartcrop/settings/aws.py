"""AWS accounts: the buckets SmartCrop reaches and the region and keys of each."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field, SecretStr, model_validator

from smartcrop.settings.shared import Section


class BucketConfig(Section):
    smartcrop_bucket: str = "smartcrop-renditions"
    region: str | None = None
    # This account's own keys, for its bucket; none: aws_config's (or boto3's chain).
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None

    @model_validator(mode="after")
    def _keys_in_pairs(self) -> BucketConfig:
        # Half a pair would mix this account's key with another account's secret.
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "give both access_key_id and secret_access_key, or neither"
            )
        return self


class ServiceAccount(Section):
    """One AWS service account: the bucket it reaches, with its region and keys.

    Every account is read: an S3 client for a bucket (an ``s3_sources`` entry, the
    rendition bucket) takes the region and keys of the account whose
    ``smartcrop_bucket`` it is (``Settings.s3_access``). The first account's bucket
    is where renditions and manifests go.
    """

    uat: BucketConfig = Field(default_factory=BucketConfig)


@dataclass(frozen=True)
class S3Access:
    """Region and keys for an S3 client of one bucket; None: boto3's default chain."""

    region: str | None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)


class AwsConfig(Section):
    service_accounts: list[ServiceAccount] = Field(
        default_factory=lambda: [ServiceAccount()]
    )
    region: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
