"""S3 as a Dagster resource: dagster-aws's ``S3Resource``, its client made by the
transfer layer's rules.

The settings say which buckets are watched and how each is reached (its source's
endpoint and region, the keys of the service account that names it); the domain asks
this resource for a client with those (``make_client``). A field set here wins for
every bucket, so a deployment (a profile, a VPC endpoint) or a test (its own S3
server) swaps S3 by resource, not by settings. Keys are never resource config: the
code location shows its resources' config in the UI, so they come from the settings
at call time (or here as ``EnvVar``s).
"""

from __future__ import annotations

from dagster_aws.s3 import S3Resource
from pydantic import Field

from smartcrop.transfer.s3 import S3Client, make_s3_client


class S3ClientResource(S3Resource):
    """dagster-aws's ``S3Resource`` whose clients follow ``make_s3_client``: botocore
    tries once per call (``smartcrop.transfer.retry`` owns the retries), a custom
    endpoint gets path-style addressing, and connections time out."""

    max_attempts: int = Field(
        default=1,
        description="botocore's attempts per call; 1: SmartCrop's transfer layer "
        "retries whole operations itself.",
    )
    connect_timeout: float = Field(default=10.0, description="Seconds to connect.")
    read_timeout: float = Field(default=60.0, description="Seconds to wait for data.")

    def make_client(
        self,
        *,
        endpoint_url: str | None,
        region: str | None,
        access_key: str | None,
        secret_key: str | None,
    ) -> S3Client:
        """A client for a bucket as the settings describe it, this resource's fields
        winning where set (keys as a pair)."""
        own_keys = self.aws_access_key_id is not None
        return make_s3_client(
            endpoint_url=self.endpoint_url or endpoint_url,
            region=self.region_name or region,
            access_key=self.aws_access_key_id if own_keys else access_key,
            secret_key=self.aws_secret_access_key if own_keys else secret_key,
            session_token=self.aws_session_token if own_keys else None,
            profile_name=self.profile_name,
            max_attempts=self.max_attempts,
            use_ssl=self.use_ssl,
            verify=self.verify,
            unsigned=self.use_unsigned_session,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )

    def get_client(self) -> S3Client:
        """A client from this resource's fields alone (dagster-aws's interface)."""
        return self.make_client(
            endpoint_url=None, region=None, access_key=None, secret_key=None
        )

    def get_object_to_set_on_execution_context(self) -> S3ClientResource:
        # dagster-aws puts a client (get_client) on every step's context that
        # requires the resource: a boto3 client made for each manifest_file step
        # (0.1 to 0.2 s) although most files are local. The resource itself instead;
        # a client is made when a remote file needs one.
        return self
