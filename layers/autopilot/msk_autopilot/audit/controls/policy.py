"""When a cluster policy statement grants to everyone (AUTOPILOT.6).

A statement that allows Principal "*" (or {"AWS": "*"}, or uses NotPrincipal) is open unless a
condition constrains who the principal is, judged by key (IAM global condition keys,
reference_policies_condition-keys.html): the principal's organization, organization path,
account or ARN (aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalAccount,
aws:PrincipalArn, aws:userid), or, for AWS services acting on a resource's behalf, that
resource's account, organization or ARN (aws:SourceAccount, aws:SourceOrgID,
aws:SourceOrgPaths, aws:SourceArn: a request without the key fails such a condition, so only
that resource's service calls get through).

A condition counts only when its operator admits listed values alone (StringEquals,
StringEqualsIgnoreCase, StringLike, ArnEquals, ArnLike, optionally ForAnyValue:): a negated
operator (StringNotEquals) admits everyone else, ...IfExists admits every request without the
key, and ForAllValues: holds when the key is absent. A value made only of wildcards ("*", "?")
admits anyone, and so does an ARN pattern whose account field is a wildcard. Conditions on
other keys (aws:SourceIp, aws:SourceVpce, aws:SecureTransport...) say where or how a request is
made, not who makes it: alone they do not close a statement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["PRINCIPAL_CONDITION_KEYS", "open_statements"]

PRINCIPAL_CONDITION_KEYS = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:userid",
        "aws:sourceaccount",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcearn",
    }
)
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
_RESTRICTING_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)


def _wildcard_principal(principal: object) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _names_someone(key: str, value: object) -> bool:
    if not isinstance(value, str) or not value.strip("*?"):
        return False
    if key in _ARN_KEYS:
        fields = value.split(":")
        account = fields[4] if len(fields) > 4 else ""
        return bool(account) and "*" not in account and "?" not in account
    return True


def _constrains_principal(condition: object) -> bool:
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        base = str(operator).lower().removeprefix("foranyvalue:")
        if base not in _RESTRICTING_OPERATORS or not isinstance(tests, Mapping):
            continue
        for name, values in tests.items():
            key = str(name).lower()
            listed: Sequence[object] = values if isinstance(values, list) else [values]
            if (
                key in PRINCIPAL_CONDITION_KEYS
                and listed
                and all(_names_someone(key, value) for value in listed)
            ):
                return True
    return False


def open_statements(policy: Mapping[str, object]) -> list[str]:
    """The Sids (or "statement N") of the statements that allow anyone in."""
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list):
        return []
    return [
        str(statement.get("Sid") or f"statement {index}")
        for index, statement in enumerate(statements, start=1)
        if isinstance(statement, Mapping)
        and statement.get("Effect") == "Allow"
        # NotPrincipal with Allow grants to everyone but the principals it names.
        and ("NotPrincipal" in statement or _wildcard_principal(statement.get("Principal")))
        and not _constrains_principal(statement.get("Condition"))
    ]
