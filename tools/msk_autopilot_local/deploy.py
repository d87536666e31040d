"""The SAM template deployed through CloudFormation into local AWS (`msk-autopilot deploy`).

As `sam deploy` would, against AWS_ENDPOINT_URL only: `make build` (sam build --cached), each
built function and layer folder zipped into an artifacts bucket (created if missing), the built
template transformed by the SAM translator with its code locations pointing at those objects,
then the stack created (CreateStack) or updated (CreateChangeSet, ExecuteChangeSet) and waited
for. Real AWS is refused: this proves the template against the emulator, not an account.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import ipaddress
import json
import re
import subprocess
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from msk_autopilot.aws import error_code
from msk_autopilot_local.errors import LocalToolError
from msk_autopilot_local.template.cfn import read_sam_template, transform_document

__all__ = [
    "ARTIFACTS_BUCKET",
    "DEFAULT_STACK_NAME",
    "DeployError",
    "DeployedResource",
    "Deployment",
    "build",
    "deploy",
    "deploy_to_empty_account",
    "deploy_working_tree",
    "local_endpoint",
    "package",
    "parse_parameter_overrides",
]

DEFAULT_STACK_NAME = "msk-autopilot"  # samconfig.toml's stack_name
ARTIFACTS_BUCKET = "msk-autopilot-artifacts"
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")  # samconfig.toml's, and macros'
_POLL_SECONDS = 0.2
_TIMEOUT_SECONDS = 300.0
_LOCAL_HOSTS = {"localhost"}


class DeployError(LocalToolError):
    """The stack could not be built, packaged, created or updated."""


@dataclass(frozen=True)
class DeployedResource:
    logical_id: str
    resource_type: str
    physical_id: str
    status: str


@dataclass(frozen=True)
class Deployment:
    stack_name: str
    stack_id: str
    action: str  # CREATE, UPDATE or NONE (the change set held no changes)
    status: str
    resources: tuple[DeployedResource, ...]
    outputs: Mapping[str, str]
    transformed: Mapping[str, Any]


def local_endpoint(environ: Mapping[str, str]) -> str:
    """AWS_ENDPOINT_URL when it points at this machine; anything else is refused."""
    endpoint = environ.get("AWS_ENDPOINT_URL", "")
    if not endpoint:
        raise DeployError(
            "AWS_ENDPOINT_URL is not set: deploy runs against local AWS only; start "
            "`msk-autopilot local-aws` and set AWS_ENDPOINT_URL=http://127.0.0.1:5055"
        )
    host = urlparse(endpoint).hostname or ""
    if host not in _LOCAL_HOSTS and not _is_loopback(host):
        raise DeployError(
            f"AWS_ENDPOINT_URL={endpoint} is not on this machine: deploy runs against local "
            "AWS only (use `sam deploy` for an AWS account)"
        )
    return endpoint


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build(project: Path) -> Path:
    """`make build` in the project (sam build --parallel --cached); the build folder."""
    result = subprocess.run(
        ["make", "--no-print-directory", "build"],  # noqa: S607  make from PATH, as a user runs it
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise DeployError(f"`make build` failed in {project}: {last[0]}")
    return project / ".aws-sam" / "build"


def _zipped(folder: Path) -> bytes:
    """The folder as a zip with fixed timestamps, so the same code gives the same object."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(
                    str(path.relative_to(folder)), date_time=(1980, 1, 1, 0, 0, 0)
                )
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package(build_dir: Path, s3: Any, bucket: str = ARTIFACTS_BUCKET) -> dict[str, Any]:
    """The built template with each CodeUri/ContentUri folder uploaded as a zip named by its
    content's hash (as `sam package` names them) and pointing at it."""
    template_path = build_dir / "template.yaml"
    if not template_path.is_file():
        raise DeployError(f"no built template at {template_path}: run `make build`")
    document, artifacts = _packaged(template_path, bucket)
    _upload(s3, bucket, artifacts)
    return document


def _packaged(template_path: Path, bucket: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The template with its code folders pointing at zips, and those zips by object key."""
    document = read_sam_template(template_path)
    artifacts: dict[str, bytes] = {}
    for logical_id, resource in document["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            location = properties.get(key)
            if not isinstance(location, str) or location.startswith("s3://"):
                continue
            folder = template_path.parent / location
            if not folder.is_dir():
                raise DeployError(f"{logical_id}'s {key} {folder} is not a folder")
            body = _zipped(folder)
            object_key = f"{hashlib.sha256(body).hexdigest()}.zip"
            artifacts[object_key] = body
            properties[key] = f"s3://{bucket}/{object_key}"
    return document, artifacts


def _upload(s3: Any, bucket: str, artifacts: Mapping[str, bytes]) -> None:
    _ensure_bucket(s3, bucket)
    for object_key, body in artifacts.items():
        s3.put_object(Bucket=bucket, Key=object_key, Body=body)


@functools.lru_cache(maxsize=4)
def _working_tree_package(
    template_path: Path, mtime_ns: int, size: int
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The working tree's template transformed, with its source folders zipped, once per
    template version in a process: the zips' content does not matter (see
    `deploy_working_tree`), and packaging and transforming cost most of a local deploy."""
    del mtime_ns, size  # only the cache key
    document, artifacts = _packaged(template_path, ARTIFACTS_BUCKET)
    return transform_document(document), artifacts


def _ensure_bucket(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        s3.create_bucket(Bucket=bucket)


def deploy(
    template_path: Path,
    *,
    cloudformation: Any,
    s3: Any,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
    build_first: bool = True,
    progress: Callable[[str], None] = lambda _step: None,
) -> Deployment:
    """Build, package, transform, then create or update `stack_name` and wait for it."""
    project = template_path.resolve().parent
    progress("sam build")
    build_dir = build(project) if build_first else project / ".aws-sam" / "build"
    progress("packaging")
    transformed = transform_document(package(build_dir, s3))
    return _create_or_update(
        transformed,
        cloudformation=cloudformation,
        s3=s3,
        stack_name=stack_name,
        parameters=parameters,
        progress=progress,
    )


def deploy_working_tree(
    template_path: Path,
    *,
    cloudformation: Any,
    s3: Any,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> Deployment:
    """`deploy` without `sam build`: each function's and the layer's source folder zipped as
    they are, for the local tools (`local-aws`, the demo, the tests).

    The local tools run each handler from the working tree, never from the deployed zip, so the
    emulator only needs valid artifacts; what the deploy proves is the template's wiring
    (names, environments, roles, rules, mappings), not the built code. `msk-autopilot deploy`
    deploys what `sam build` built."""
    resolved = template_path.resolve()
    stat = resolved.stat()
    transformed, artifacts = _working_tree_package(resolved, stat.st_mtime_ns, stat.st_size)
    _upload(s3, ARTIFACTS_BUCKET, artifacts)
    return _create_or_update(
        copy.deepcopy(transformed),
        cloudformation=cloudformation,
        s3=s3,
        stack_name=stack_name,
        parameters=parameters,
        progress=lambda _step: None,
    )


_EmptyAccountKey = tuple[Path, int, int, str, str, tuple[tuple[str, str], ...]]
_empty_account_deploys: dict[_EmptyAccountKey, tuple[Any, Deployment]] = {}


def deploy_to_empty_account(
    template_path: Path,
    clients: Any,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> Deployment:
    """`deploy_working_tree` into an account just emptied, served by moto in this process (the
    tests' accounts, `local-aws`): the first deploy of a template version, stack name, Region and
    parameters is a real one, whose resulting state is snapshotted; the next ones put that state
    back (tens of milliseconds instead of a second). Whatever the account held is replaced.
    `clients` is anything with `.client(service)` bound to the account (a boto3 Session)."""
    from msk_autopilot_local.emulator.snapshot import MotoSnapshot  # noqa: PLC0415

    resolved = template_path.resolve()
    stat = resolved.stat()
    key = (
        resolved,
        stat.st_mtime_ns,
        stat.st_size,
        stack_name,
        clients.client("cloudformation").meta.region_name,
        tuple(sorted((parameters or {}).items())),
    )
    if key in _empty_account_deploys:
        snapshot, deployment = _empty_account_deploys[key]
        snapshot.restore()
        return deployment
    deployment = deploy_working_tree(
        template_path,
        cloudformation=clients.client("cloudformation"),
        s3=clients.client("s3"),
        stack_name=stack_name,
        parameters=parameters,
    )
    _empty_account_deploys[key] = (MotoSnapshot.take(), deployment)
    return deployment


def _create_or_update(
    transformed: dict[str, Any],
    *,
    cloudformation: Any,
    s3: Any,
    stack_name: str,
    parameters: Mapping[str, str] | None,
    progress: Callable[[str], None],
) -> Deployment:
    template_key = f"templates/{stack_name}.json"
    s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=template_key, Body=json.dumps(transformed))
    template_url = f"https://{ARTIFACTS_BUCKET}.s3.amazonaws.com/{template_key}"
    stack_parameters = [
        {"ParameterKey": key, "ParameterValue": value} for key, value in (parameters or {}).items()
    ]
    existing = _stack(cloudformation, stack_name)
    if existing is None:
        progress("creating the stack")
        _call(
            cloudformation.create_stack,
            StackName=stack_name,
            TemplateURL=template_url,
            Parameters=stack_parameters,
            Capabilities=list(CAPABILITIES),
        )
        action = "CREATE"
    else:
        progress("updating the stack")
        action = _update(cloudformation, stack_name, template_url, stack_parameters)
    stack = _wait(cloudformation, stack_name, progress)
    if not stack["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stack["StackStatus"]:
        reason = _failure(cloudformation, stack_name)
        raise DeployError(f"stack {stack_name} ended {stack['StackStatus']}: {reason}")
    listed = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return Deployment(
        stack_name=stack_name,
        stack_id=stack["StackId"],
        action=action,
        status=stack["StackStatus"],
        resources=tuple(
            DeployedResource(
                each["LogicalResourceId"],
                each["ResourceType"],
                each.get("PhysicalResourceId", ""),
                each["ResourceStatus"],
            )
            for each in listed
        ),
        outputs={each["OutputKey"]: each["OutputValue"] for each in stack.get("Outputs", [])},
        transformed=transformed,
    )


def _failure(cloudformation: Any, stack_name: str) -> str:
    """The reason of the stack's most recent failed event."""
    events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    for event in events:  # newest first
        if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason"):
            return str(event["ResourceStatusReason"])
    return "no failure reason recorded (DescribeStackEvents)"


def _update(
    cloudformation: Any, stack_name: str, template_url: str, parameters: list[dict[str, str]]
) -> str:
    """A change set of the new template and parameters, executed unless it holds no change."""
    change_set = f"{stack_name}-{int(time.time() * 1000)}"
    _call(
        cloudformation.create_change_set,
        StackName=stack_name,
        ChangeSetName=change_set,
        ChangeSetType="UPDATE",
        TemplateURL=template_url,
        Parameters=parameters,
        Capabilities=list(CAPABILITIES),
    )
    described = _wait_for_change_set(cloudformation, stack_name, change_set)
    if described["Status"] == "FAILED":
        reason = described.get("StatusReason", "")
        if "didn't contain changes" in reason or "No updates" in reason:
            cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=change_set)
            return "NONE"
        raise DeployError(f"the change set for {stack_name} failed: {reason}")
    _call(cloudformation.execute_change_set, StackName=stack_name, ChangeSetName=change_set)
    return "UPDATE"


def _call(operation: Callable[..., Any], **params: Any) -> Any:
    """A CloudFormation call whose refusal (a template or parameter error) is one line."""
    from botocore.exceptions import ClientError  # noqa: PLC0415
    from botocore.parsers import ResponseParserError  # noqa: PLC0415

    try:
        return operation(**params)
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise DeployError(
            f"CloudFormation refused the stack ({error_code(error)}): {message}"
        ) from None
    except ResponseParserError as error:
        # moto's CloudFormation answers a resource it could not create with that service's own
        # error body, which the CloudFormation client cannot parse; its message is the reason.
        found = re.search(r'"message": "([^"]*)"', str(error))
        reason = found.group(1) if found else str(error).splitlines()[-1]
        raise DeployError(f"a resource of stack {params['StackName']} failed: {reason}") from None


def _stack(cloudformation: Any, stack_name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError":  # "Stack with id ... does not exist"
            return None
        raise
    stack: dict[str, Any] = stacks[0]
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def _wait(cloudformation: Any, stack_name: str, progress: Callable[[str], None]) -> dict[str, Any]:
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        stack = _stack(cloudformation, stack_name)
        if stack is None:
            raise DeployError(f"stack {stack_name} disappeared while deploying")
        if not stack["StackStatus"].endswith("_IN_PROGRESS"):
            return stack
        progress(stack["StackStatus"])
        if time.monotonic() > deadline:
            raise DeployError(
                f"stack {stack_name} still {stack['StackStatus']} after {_TIMEOUT_SECONDS:.0f}s"
            )
        time.sleep(_POLL_SECONDS)


def _wait_for_change_set(cloudformation: Any, stack_name: str, change_set: str) -> dict[str, Any]:
    deadline = time.monotonic() + _TIMEOUT_SECONDS
    while True:
        described: dict[str, Any] = cloudformation.describe_change_set(
            StackName=stack_name, ChangeSetName=change_set
        )
        if described["Status"] in {"CREATE_COMPLETE", "FAILED"}:
            return described
        if time.monotonic() > deadline:
            raise DeployError(f"change set {change_set} still {described['Status']}")
        time.sleep(_POLL_SECONDS)


def parse_parameter_overrides(pairs: list[str]) -> dict[str, str]:
    """`Key=Value` pairs, as `sam deploy --parameter-overrides` takes them."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise DeployError(f"--parameter-overrides: {pair!r} is not Key=Value")
        overrides[key] = value
    return overrides
