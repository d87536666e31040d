"""The one error the command line turns into "could not run": one line, exit status 2.

Library modules of the local tools raise a subclass of `LocalToolError` for anything a user can
fix (a missing file, a bad option value, local AWS not started); `cli.main` prints it without a
traceback. AWS errors that mean "this command cannot reach AWS at all" get the same treatment
through `unreachable_aws`.
"""

from __future__ import annotations

__all__ = ["LocalToolError", "unreachable_aws"]


class LocalToolError(Exception):
    """A command cannot run; the message says what is wrong and what to do."""


def unreachable_aws(error: BaseException) -> str | None:
    """One line for an error that means AWS (or local AWS) cannot be reached or used at all,
    found anywhere in `error`'s chain of causes, or None when it is something else."""
    seen: BaseException | None = error
    while seen is not None:
        cause = _unreachable(seen)
        if cause:
            return cause
        seen = seen.__cause__ or seen.__context__
    return None


def _unreachable(error: BaseException) -> str | None:
    from botocore import exceptions  # noqa: PLC0415  keeps `msk-autopilot --help` fast

    if isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        return (
            "no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or point "
            "AWS_ENDPOINT_URL at `msk-autopilot local-aws` (any credentials work there)"
        )
    if isinstance(error, exceptions.NoRegionError):
        return "no AWS Region: set AWS_REGION (or AWS_DEFAULT_REGION), or pass --region"
    if isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectionClosedError):
        return (
            f"cannot reach {getattr(error, 'kwargs', {}).get('endpoint_url', 'AWS')}: is "
            "`msk-autopilot local-aws` running (AWS_ENDPOINT_URL), or is the Region right?"
        )
    if isinstance(error, exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in {
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        }:
            return f"AWS refused the credentials ({code}): refresh them or choose another profile"
    return None
