"""The price table, a cluster's monthly cost, a decision's cost change and right-sizing savings."""

import json
from datetime import date

import pytest

from msk_autopilot.capacity.pricing import (
    HOURS_PER_MONTH,
    BilledShape,
    PriceTable,
    PricingError,
    SizeRecommendation,
    cost_change,
    keep_size,
    monthly_cost,
    right_sizing_savings,
)
from msk_autopilot.capacity.sizes import INSTANCE_TYPES, vcpus
from msk_autopilot.msk import ClusterSnapshot
from msk_autopilot.settings import SettingsError, StorageScalerSettings, load

REGION = "us-east-1"
PRICES = {
    "broker_hour": {"kafka.m5.large": 0.2, "express.m7g.large": 0.5},
    "storage_gib_month": 0.1,
    "provisioned_throughput_mibps_month": 0.08,
    "express_storage_gib_month": 0.1,
    "express_data_in_gb": 0.01,
    "express_data_out_gb": 0.0,
}


@pytest.fixture
def price_file(tmp_path):
    def write(document) -> object:
        path = tmp_path / "prices.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return path

    return write


@pytest.fixture
def table(price_file) -> PriceTable:
    return PriceTable.with_overrides(price_file({"regions": {REGION: PRICES}}))


# --- the built-in table ------------------------------------------------------------------------


def test_the_built_in_table_prices_only_msk_instance_types_and_names_its_sources():
    table = PriceTable.built_in()
    assert table.currency == "USD"
    assert set(table.regions) == {REGION}
    assert set(table.region(REGION).broker_hour) <= set(INSTANCE_TYPES)
    assert table.sources
    for source in table.sources:
        assert source.url
        assert source.read == date(2026, 12, 5)


def test_the_built_in_table_holds_us_east_1_list_prices_for_every_size():
    prices = PriceTable.built_in().region(REGION)
    assert set(prices.broker_hour) == set(INSTANCE_TYPES)
    quoted = {
        "kafka.t3.small": 0.0456,
        "kafka.m5.large": 0.21,
        "kafka.m5.24xlarge": 10.08,  # the top of the published range
        "kafka.m7g.large": 0.204,
        "express.m7g.large": 0.408,
    }
    assert {name: prices.broker_hour[name] for name in quoted} == quoted
    assert prices.storage_gib_month == 0.10
    assert prices.provisioned_throughput_mibps_month == 0.08
    assert (prices.express_storage_gib_month, prices.express_data_in_gb) == (0.10, 0.01)


def test_prices_within_a_family_are_linear_in_vcpus():
    prices = PriceTable.built_in().region(REGION).broker_hour
    for name, price in prices.items():
        if name != "kafka.t3.small":
            large = name.rsplit(".", 1)[0] + ".large"
            assert price == pytest.approx(prices[large] * vcpus(name) / vcpus(large))


def test_an_unsourced_price_is_unknown_not_guessed(price_file):
    table = PriceTable.with_overrides(
        price_file({"regions": {REGION: {"broker_hour": {"kafka.m5.large": None}}}})
    )
    cost = monthly_cost(
        BilledShape(instance_type="kafka.m5.large", broker_count=3, volume_gib=1000), table, REGION
    )
    assert cost.brokers is None
    assert cost.storage == 300.0
    assert cost.total is None
    assert cost.unknown == ("kafka.m5.large hour price in us-east-1",)


# --- monthly cost --------------------------------------------------------------------------------


def test_a_standard_cluster_pays_broker_hours_storage_and_throughput_per_broker(table):
    shape = BilledShape(
        instance_type="kafka.m5.large",
        broker_count=3,
        volume_gib=1000,
        provisioned_throughput_mibps=250,
    )
    cost = monthly_cost(shape, table, REGION)
    assert cost.brokers == pytest.approx(3 * HOURS_PER_MONTH * 0.2) == 438.0
    assert cost.storage == 300.0
    assert cost.throughput == pytest.approx(3 * 250 * 0.08)
    assert (cost.express_storage, cost.express_data) == (0.0, 0.0)
    assert cost.total == pytest.approx(438.0 + 300.0 + 60.0)
    assert cost.unknown == ()


def test_an_express_cluster_pays_storage_used_and_data_written(table):
    shape = BilledShape(
        instance_type="express.m7g.large",
        broker_count=3,
        express_storage_gib=2500.0,
        express_data_in_gb_month=10_000.0,
        express_data_out_gb_month=30_000.0,
    )
    cost = monthly_cost(shape, table, REGION)
    assert cost.brokers == pytest.approx(3 * 730 * 0.5)
    assert (cost.storage, cost.throughput) == (0.0, 0.0)
    assert cost.express_storage == 250.0
    assert cost.express_data == 100.0
    assert cost.total == pytest.approx(1095.0 + 250.0 + 100.0)


def test_express_usage_not_measured_leaves_its_parts_unknown(table):
    cost = monthly_cost(
        BilledShape(instance_type="express.m7g.large", broker_count=3), table, REGION
    )
    assert cost.brokers == pytest.approx(1095.0)
    assert (cost.express_storage, cost.express_data, cost.total) == (None, None, None)
    assert cost.unknown == (
        "Express storage used (StorageUsed) not measured",
        "Express data in (BytesIn/BytesOut) not measured",
    )


def test_a_region_without_prices_is_unknown_throughout(table):
    cost = monthly_cost(
        BilledShape(instance_type="kafka.m5.large", broker_count=3, volume_gib=100),
        table,
        "eu-west-1",
    )
    assert (cost.brokers, cost.storage, cost.total) == (None, None, None)
    assert "storage GiB-month price in eu-west-1" in cost.unknown


# --- decisions -----------------------------------------------------------------------------------


def test_a_cost_change_says_before_after_and_the_difference(table):
    before = BilledShape(instance_type="kafka.m5.large", broker_count=3, volume_gib=1000)
    after = BilledShape(instance_type="kafka.m5.large", broker_count=3, volume_gib=1100)
    change = cost_change(monthly_cost(before, table, REGION), monthly_cost(after, table, REGION))
    assert (change.before, change.after, change.delta) == (738.0, 768.0, 30.0)
    assert change.describe() == "monthly cost 738.00 -> 768.00 USD (+30.00)"
    assert change.to_dict() == {"currency": "USD", "before": 738.0, "after": 768.0, "delta": 30.0}


def test_a_cost_change_with_an_unknown_side_has_no_difference(price_file):
    table = PriceTable.with_overrides(
        price_file({"regions": {REGION: {"broker_hour": {"kafka.m5.large": None}}}})
    )
    known = BilledShape(instance_type="kafka.t3.small", broker_count=3, volume_gib=100)
    unknown = BilledShape(instance_type="kafka.m5.large", broker_count=3, volume_gib=100)
    change = cost_change(monthly_cost(known, table, REGION), monthly_cost(unknown, table, REGION))
    assert change.delta is None
    assert change.describe() == "monthly cost 129.86 -> unknown USD"


def _cluster(instance_type: str = "kafka.m5.large", **provisioned) -> ClusterSnapshot:
    ebs = {"VolumeSize": 1000, **provisioned.pop("ebs", {})}
    return ClusterSnapshot.from_api(
        {
            "ClusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/orders/abc-1",
            "ClusterName": "orders",
            "State": "ACTIVE",
            "Provisioned": {
                "BrokerNodeGroupInfo": {
                    "InstanceType": instance_type,
                    "StorageInfo": {"EbsStorageInfo": ebs},
                },
                "NumberOfBrokerNodes": 6,
                **provisioned,
            },
        }
    )


def test_a_clusters_shape_is_read_from_its_description():
    throughput = {"ProvisionedThroughput": {"Enabled": True, "VolumeThroughput": 300}}
    shape = BilledShape.of(_cluster("kafka.m5.4xlarge", ebs=throughput))
    assert shape == BilledShape(
        instance_type="kafka.m5.4xlarge",
        broker_count=6,
        volume_gib=1000,
        provisioned_throughput_mibps=300,
    )
    disabled = {"ProvisionedThroughput": {"Enabled": False, "VolumeThroughput": 300}}
    assert BilledShape.of(_cluster(ebs=disabled)).provisioned_throughput_mibps is None
    serverless = ClusterSnapshot.from_api(
        {
            "ClusterArn": "arn:aws:kafka:us-east-1:123456789012:cluster/s/abc-2",
            "ClusterName": "s",
            "ClusterType": "SERVERLESS",
            "State": "ACTIVE",
            "Serverless": {},
        }
    )
    assert BilledShape.of(serverless) is None


def test_right_sizing_savings_price_the_recommended_size(table):
    cluster = _cluster()
    shape = BilledShape.of(cluster)
    assert shape is not None

    def three_brokers(cluster, shape):
        return SizeRecommendation(instance_type=shape.instance_type, broker_count=3)

    recommended, change = right_sizing_savings(cluster, shape, table, REGION, three_brokers)
    assert recommended == SizeRecommendation(instance_type="kafka.m5.large", broker_count=3)
    assert change.before == pytest.approx(6 * 730 * 0.2 + 6 * 100.0)
    assert change.delta == pytest.approx(-(3 * 730 * 0.2 + 3 * 100.0))
    _, unchanged = right_sizing_savings(cluster, shape, table, REGION)
    assert keep_size(cluster, shape).broker_count == 6
    assert unchanged.delta == 0.0


# --- price files ---------------------------------------------------------------------------------


def test_a_price_file_merges_over_the_built_in_table(price_file):
    path = price_file(
        {
            "sources": [{"url": "https://example.com/p", "read": "2027-01-02", "covers": "m5"}],
            "regions": {
                REGION: {"broker_hour": {"kafka.m5.large": 0.21, "kafka.t3.small": None}},
                "eu-west-1": {"storage_gib_month": 0.11},
            },
        }
    )
    table = PriceTable.with_overrides(path)
    us_east = table.region(REGION)
    assert us_east.broker_hour["kafka.m5.large"] == 0.21
    assert "kafka.t3.small" not in us_east.broker_hour  # null: unknown from now on
    assert us_east.broker_hour["kafka.m5.24xlarge"] == 10.08  # not given: the built-in stays
    assert us_east.storage_gib_month == 0.10  # not given: the built-in price stays
    assert table.region("eu-west-1").storage_gib_month == 0.11
    assert table.sources[-1].url == "https://example.com/p"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"regions": {REGION: {"broker_hour": {"kafka.m5.huge": 1.0}}}},
            "`$.regions['us-east-1'].broker_hour['kafka.m5.huge']` is not an MSK broker "
            "instance type",
        ),
        (
            {"regions": {REGION: {"broker_hour": {"kafka.m5.large": -1}}}},
            "`$.regions['us-east-1'].broker_hour['kafka.m5.large']`: Expected `float` >= 0",
        ),
        (
            {"regions": {REGION: {"storage_gib_month": "cheap"}}},
            "Expected `float | null`, got `str` - at `$.regions['us-east-1'].storage_gib_month`",
        ),
        (
            {"regions": {REGION: {"storage_price": 0.1}}},
            "Object contains unknown field `storage_price` - at `$.regions['us-east-1']`",
        ),
        ({"regions": {"Virginia": {}}}, "`$.regions['Virginia']` is not a Region name"),
        ({"currency": "EUR"}, "`$.currency` is 'EUR'; prices are in USD"),
        ("{not json", "JSON is malformed"),
    ],
)
def test_a_bad_price_file_is_named_with_the_offending_key(price_file, document, message):
    path = price_file(document)
    with pytest.raises(PricingError) as raised:
        PriceTable.with_overrides(path)
    assert str(raised.value).startswith(f"invalid price file {path}: ")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_price_file_is_named(tmp_path):
    with pytest.raises(PricingError, match=r"cannot read price file .*absent\.json"):
        PriceTable.with_overrides(tmp_path / "absent.json")


def test_the_functions_read_a_price_file_from_pricing_file(price_file):
    environment = {
        "AWS_REGION": REGION,
        "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
        "IDEMPOTENCY_TABLE_NAME": "table",
    }
    assert load(StorageScalerSettings, environment).prices == PriceTable.built_in()
    good = price_file({"regions": {REGION: {"broker_hour": {"kafka.m5.large": 0.21}}}})
    settings = load(StorageScalerSettings, {**environment, "PRICING_FILE": str(good)})
    assert settings.prices.region(REGION).broker_hour["kafka.m5.large"] == 0.21
    bad = price_file({"regions": {REGION: {"broker_hour": {"kafka.x": 1}}}})
    with pytest.raises(SettingsError, match=r"PRICING_FILE=.*broker_hour\['kafka.x'\]"):
        load(StorageScalerSettings, {**environment, "PRICING_FILE": str(bad)})
