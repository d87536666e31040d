"""SASL/SCRAM secrets: associating, disassociating and listing, with MSK's checks of each
secret against moto's Secrets Manager and KMS."""

from moto.kms.models import kms_backends
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend, secretsmanager_backends

from .. import rules
from ..exceptions import BadRequestException
from .base import MskBackendBase
from .records import MskCluster

SCRAM_ERROR_CODE = "InvalidSecretArn"
SCRAM_PREFIX_MESSAGE = (
    "The provided secret arn cannot be used with Amazon MSK. "
    "Secret names must have the prefix 'AmazonMSK_'."
)
SCRAM_ACCESS_MESSAGE = "Amazon MSK wasn't able to access the provided secret."
SCRAM_DEFAULT_KEY_MESSAGE = (
    "The provided secret is encrypted with the default AWS Secrets Manager key. "
    "Amazon MSK requires a customer managed KMS key."
)
MAX_SECRETS_PER_CALL = 10
MAX_SECRETS_PER_CLUSTER = 1000


class ScramMixin(MskBackendBase):
    def _scram_cluster(self, cluster_arn: str, secret_arns: list[str]) -> MskCluster:
        cluster = self._provisioned(cluster_arn)
        if not secret_arns:
            raise BadRequestException("Specify at least one secret ARN.", "secretArnList")
        if len(secret_arns) > MAX_SECRETS_PER_CALL:
            raise BadRequestException(
                f"You can associate or disassociate at most {MAX_SECRETS_PER_CALL} secrets "
                "per call.",
                "secretArnList",
            )
        if not rules.enabled(cluster.settings["ClientAuthentication"], "Sasl", "Scram"):
            raise BadRequestException(
                "SASL/SCRAM authentication is not turned on for this cluster.", "clusterArn"
            )
        if cluster.state in ("CREATING", "DELETING"):
            raise BadRequestException(f"The cluster is in the {cluster.state} state.", "clusterArn")
        return cluster

    def associate_scram_secrets(
        self, cluster_arn: str, secret_arns: list[str]
    ) -> list[dict[str, str]]:
        cluster = self._scram_cluster(cluster_arn, secret_arns)
        unprocessed: list[dict[str, str]] = []
        for secret_arn in secret_arns:
            problem = self._scram_secret_problem(secret_arn)
            if problem is None and secret_arn not in cluster.scram_secrets:
                if len(cluster.scram_secrets) >= MAX_SECRETS_PER_CLUSTER:
                    problem = (
                        f"The cluster already has {MAX_SECRETS_PER_CLUSTER} associated secrets, "
                        "the maximum."
                    )
                else:
                    cluster.scram_secrets.append(secret_arn)
            if problem is not None:
                unprocessed.append(
                    {
                        "ErrorCode": SCRAM_ERROR_CODE,
                        "ErrorMessage": problem,
                        "SecretArn": secret_arn,
                    }
                )
        return unprocessed

    def disassociate_scram_secrets(
        self, cluster_arn: str, secret_arns: list[str]
    ) -> list[dict[str, str]]:
        cluster = self._scram_cluster(cluster_arn, secret_arns)
        unprocessed: list[dict[str, str]] = []
        for secret_arn in secret_arns:
            if secret_arn in cluster.scram_secrets:
                cluster.scram_secrets.remove(secret_arn)
            else:
                unprocessed.append(
                    {
                        "ErrorCode": SCRAM_ERROR_CODE,
                        "ErrorMessage": "The secret is not associated with the cluster.",
                        "SecretArn": secret_arn,
                    }
                )
        return unprocessed

    def list_scram_secrets(self, cluster_arn: str) -> list[str]:
        return list(self._provisioned(cluster_arn).scram_secrets)

    def _scram_secret_problem(self, secret_arn: str) -> str | None:
        """Why MSK would refuse this secret, or None when it is usable."""
        prefix = f"arn:{self.partition}:secretsmanager:{self.region_name}:{self.account_id}:secret:"
        if not secret_arn.startswith(prefix):
            return SCRAM_ACCESS_MESSAGE
        secrets: SecretsManagerBackend = secretsmanager_backends[self.account_id][self.region_name]
        secret = secrets.secrets.get(secret_arn)
        if secret is None or secret.arn != secret_arn or secret.is_deleted():
            return SCRAM_ACCESS_MESSAGE
        if not secret.name.startswith("AmazonMSK_"):
            return SCRAM_PREFIX_MESSAGE
        kms_key_id = secret.kms_key_id if isinstance(secret, FakeSecret) else None
        if self._is_default_secrets_key(kms_key_id):
            return SCRAM_DEFAULT_KEY_MESSAGE
        return None

    def _is_default_secrets_key(self, kms_key_id: str | None) -> bool:
        default_alias = SecretsManagerBackend.DEFAULT_KMS_KEY_ALIAS
        if (
            kms_key_id is None
            or kms_key_id == default_alias
            or kms_key_id.endswith(":" + default_alias)
        ):
            return True
        kms = kms_backends[self.account_id][self.region_name]
        key_id = kms.get_key_id(kms_key_id)
        key = kms.keys.get(key_id)
        return key is not None and default_alias in key.aliases
