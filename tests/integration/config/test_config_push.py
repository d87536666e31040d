"""`msk-autopilot config push DIR`: validate every file, upload all or none."""

from pathlib import Path

from config_account import PREFIX, REGION, ROOT

from msk_autopilot_local.cli import main

EXAMPLES = ROOT / "examples" / "configurations"


def pushed(account) -> dict[str, str]:
    found = account.ssm.get_parameters_by_path(Path=PREFIX, Recursive=True)["Parameters"]
    return {parameter["Name"]: parameter["Value"] for parameter in found}


def test_a_folder_with_any_problem_uploads_nothing(account, tmp_path, capsys):
    (tmp_path / "good.properties").write_text("num.partitions=3\n")
    (tmp_path / "typo.properties").write_text("num.partitions=3\nlog.retention.hour=1\n")
    (tmp_path / "orders_eu.properties").write_text("num.partitions=3\n")
    (tmp_path / "latin1.properties").write_bytes(b"num.partitions=3\n# caf\xe9\n")
    (tmp_path / "notes.txt").write_text("not a configuration")

    code = main(["config", "push", str(tmp_path), "--region", REGION])

    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{tmp_path}/latin1.properties:2: not UTF-8 text",
        f"{tmp_path}/orders_eu.properties: configuration name 'orders_eu' must start with a "
        "letter or digit and contain only letters, digits and hyphens",
        f"{tmp_path}/typo.properties:2: 'log.retention.hour' is not a property MSK lets "
        "customers set; did you mean 'log.retention.hours'?",
        "error: 3 problems; nothing uploaded",
    ]
    assert pushed(account) == {}


def test_a_valid_folder_is_uploaded_and_rolled_out(account, capsys):
    cluster = account.cluster("orders-1", follows="orders")

    assert main(["config", "push", str(EXAMPLES), "--region", REGION]) == 0
    assert main(["config", "push", str(EXAMPLES), "--region", REGION]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        f"{EXAMPLES}/analytics.properties -> {PREFIX}analytics (version 2)",
        f"{EXAMPLES}/orders.properties -> {PREFIX}orders (version 2)",
    ]
    assert pushed(account) == {
        PREFIX + path.stem: path.read_text() for path in EXAMPLES.glob("*.properties")
    }
    result = account.rotate_configurations()
    orders = result["details"]["configurations"]["orders"]
    assert orders["actions"] == [
        "created msk-autopilot-orders revision 1",
        "started update of orders-1 to revision 1",
    ]
    assert account.configurations()["msk-autopilot-orders"]["KafkaVersions"] == [
        "3.8.x",
        "3.9.x",
    ]
    account.finish_operations()
    assert account.position(cluster) == ("msk-autopilot-orders", 1)


def test_check_only_validates(account, capsys):
    assert main(["config", "push", str(EXAMPLES), "--check"]) == 0
    assert capsys.readouterr().out == "2 configurations are valid\n"
    assert pushed(account) == {}


def test_usage_errors(account, tmp_path, capsys):
    assert main(["config", "push", str(EXAMPLES), "--prefix", "configs"]) == 2
    assert "must start and end with '/'" in capsys.readouterr().err
    assert main(["config", "push", str(tmp_path)]) == 1
    assert f"{tmp_path}: no *.properties files" in capsys.readouterr().err
    assert main(["config", "push", str(Path(tmp_path) / "missing")]) == 1
    assert "not a directory" in capsys.readouterr().err


def test_one_problem_is_one_problem(account, tmp_path, capsys):
    (tmp_path / "typo.properties").write_text("log.retention.hour=1\n")

    assert main(["config", "push", str(tmp_path), "--region", REGION]) == 1

    assert capsys.readouterr().err.splitlines()[-1] == "error: 1 problem; nothing uploaded"
    assert pushed(account) == {}


def test_a_weakening_is_refused_before_upload(account, tmp_path, capsys):
    path = tmp_path / "base.properties"
    path.write_text("num.partitions=3\nunclean.leader.election.enable=true\nlog.retention.ms=1\n")

    for check in ([], ["--check"]):
        assert main(["config", "push", str(tmp_path), "--region", REGION, *check]) == 1
        err = capsys.readouterr().err.splitlines()
        assert [line.split(" is refused")[0] for line in err] == [
            f"{path}:2: unclean.leader.election.enable=true",
            f"{path}:3: log.retention.ms=1",
            "error: 2 problems; nothing uploaded",
        ]
        assert err[0].endswith(
            "to allow it, tag the parameter msk-autopilot:allow:unclean.leader.election.enable=true"
        )
    assert pushed(account) == {}


def test_a_weakening_the_parameter_allows_is_uploaded_and_called_out(account, tmp_path, capsys):
    account.push("base", "num.partitions=3\n")
    account.ssm.add_tags_to_resource(
        ResourceType="Parameter",
        ResourceId=PREFIX + "base",
        Tags=[{"Key": "msk-autopilot:allow:log.retention.ms", "Value": "1800000"}],
    )
    path = tmp_path / "base.properties"
    path.write_text("num.partitions=3\nlog.retention.ms=1800000\n")

    assert main(["config", "push", str(tmp_path), "--region", REGION]) == 0

    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{path}:2: GUARDRAIL OVERRIDE: log.retention.ms=1800000 allowed by tag "
        f"msk-autopilot:allow:log.retention.ms=1800000 on {PREFIX}base"
    ]
    assert captured.out.splitlines() == [f"{path} -> {PREFIX}base (version 2)"]
    assert pushed(account) == {PREFIX + "base": path.read_text()}
