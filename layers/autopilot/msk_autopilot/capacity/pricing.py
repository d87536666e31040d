"""What an MSK cluster costs a month, and what a capacity decision changes about it (pure).

The prices are a table per Region (prices.json beside this module: its sources and the day they
were read are in the file). A price the table does not have is unknown, never guessed: a cost
that needs it is None and says which price is missing. `PriceTable.with_overrides(path)` merges a
file of the same shape over the table (`--prices FILE` on the command line, PRICING_FILE for the
functions), so a Region or a new price needs no release.

A month is 730 hours (AWS's convention on its pricing pages). Standard brokers are billed per
broker-hour, per GiB-month of provisioned storage per broker and, when enabled, per MiB/s-month of
provisioned storage throughput per broker; Express brokers per broker-hour, per GiB-month of
storage used (StorageUsed, the whole cluster) and per GB of data written and read.
"""

from __future__ import annotations

import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import msgspec

from msk_autopilot.capacity.sizes import INSTANCE_TYPES, is_express

if TYPE_CHECKING:  # settings reads price files; msk (through aws) reads settings
    from msk_autopilot.msk import ClusterSnapshot

__all__ = [
    "HOURS_PER_MONTH",
    "BilledShape",
    "CostBreakdown",
    "CostChange",
    "PriceSource",
    "PriceTable",
    "PricingError",
    "RegionPrices",
    "RightSizing",
    "SizeRecommendation",
    "cost_change",
    "keep_size",
    "monthly_cost",
    "right_sizing_savings",
]

HOURS_PER_MONTH = 730
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
type _Price = Annotated[float, msgspec.Meta(ge=0)]


class PricingError(ValueError):
    """A price file is not valid; the message names the file and the offending key."""


class PriceSource(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: str
    read: date
    covers: str


class RegionPrices(msgspec.Struct, frozen=True, kw_only=True):
    """One Region's prices; None where the table has no price."""

    broker_hour: dict[str, float] = {}
    storage_gib_month: float | None = None
    provisioned_throughput_mibps_month: float | None = None
    express_storage_gib_month: float | None = None
    express_data_in_gb: float | None = None
    express_data_out_gb: float | None = None


class _RegionFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    # Raw per instance type, decoded one by one so an error can name the type.
    broker_hour: dict[str, msgspec.Raw] = {}
    storage_gib_month: _Price | msgspec.UnsetType | None = msgspec.UNSET
    provisioned_throughput_mibps_month: _Price | msgspec.UnsetType | None = msgspec.UNSET
    express_storage_gib_month: _Price | msgspec.UnsetType | None = msgspec.UNSET
    express_data_in_gb: _Price | msgspec.UnsetType | None = msgspec.UNSET
    express_data_out_gb: _Price | msgspec.UnsetType | None = msgspec.UNSET


class _PriceFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    currency: str = "USD"
    sources: tuple[PriceSource, ...] = ()
    notes: str = ""
    regions: dict[str, msgspec.Raw] = {}


class PriceTable(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    sources: tuple[PriceSource, ...]
    regions: dict[str, RegionPrices]

    @classmethod
    def built_in(cls) -> PriceTable:
        text = resources.files("msk_autopilot.capacity").joinpath("prices.json").read_bytes()
        return _merged(cls(currency="USD", sources=(), regions={}), text, "prices.json")

    @classmethod
    def with_overrides(cls, path: Path) -> PriceTable:
        """The built-in table with the file at `path` merged over it: a given price replaces the
        table's (null makes it unknown), others stay. Raises PricingError naming the file."""
        try:
            text = path.read_bytes()
        except OSError as error:
            raise PricingError(f"cannot read price file {path}: {error.strerror}") from None
        return _merged(cls.built_in(), text, str(path))

    def region(self, name: str) -> RegionPrices:
        return self.regions.get(name, RegionPrices())


def _merged(table: PriceTable, text: bytes, name: str) -> PriceTable:
    def invalid(problem: str) -> PricingError:
        return PricingError(f"invalid price file {name}: {problem}")

    try:
        document = msgspec.json.decode(text, type=_PriceFile)
    except msgspec.DecodeError as error:
        raise invalid(str(error)) from None
    if document.currency != table.currency:
        raise invalid(f"`$.currency` is {document.currency!r}; prices are in {table.currency}")
    regions = dict(table.regions)
    for region, raw in document.regions.items():
        path = f"$.regions[{region!r}]"
        if not _REGION.fullmatch(region):
            raise invalid(f"`{path}` is not a Region name (e.g. us-east-1)")
        try:
            given = msgspec.json.decode(raw, type=_RegionFile)
        except msgspec.ValidationError as error:
            message = str(error)  # msgspec names no path for the region object itself
            located = message.replace("`$", f"`{path}", 1)
            raise invalid(located if "`$" in message else f"{message} - at `{path}`") from None
        prices = regions.get(region, RegionPrices())
        broker_hour = dict(prices.broker_hour)
        for instance_type, price_raw in given.broker_hour.items():
            key = f"{path}.broker_hour[{instance_type!r}]"
            if instance_type not in INSTANCE_TYPES:
                raise invalid(f"`{key}` is not an MSK broker instance type")
            try:
                price = msgspec.json.decode(price_raw, type=_Price | None)
            except msgspec.ValidationError as error:
                raise invalid(f"`{key}`: {error}") from None
            if price is None:
                broker_hour.pop(instance_type, None)
            else:
                broker_hour[instance_type] = price
        replaced = {
            field: value
            for field in RegionPrices.__struct_fields__
            if field != "broker_hour"
            and not isinstance(value := getattr(given, field), msgspec.UnsetType)
        }
        regions[region] = msgspec.structs.replace(prices, broker_hour=broker_hour, **replaced)
    return PriceTable(
        currency=table.currency, sources=table.sources + document.sources, regions=regions
    )


class BilledShape(msgspec.Struct, frozen=True, kw_only=True):
    """What a provisioned cluster is billed by. Express usage is None where not measured."""

    instance_type: str
    broker_count: int
    volume_gib: int | None = None  # per broker (Standard)
    provisioned_throughput_mibps: int | None = None  # per broker, when enabled (Standard)
    express_storage_gib: float | None = None  # StorageUsed, the whole cluster
    express_data_in_gb_month: float | None = None  # BytesIn over a month
    express_data_out_gb_month: float | None = None  # BytesOut over a month

    @classmethod
    def of(cls, cluster: ClusterSnapshot) -> BilledShape | None:
        """The shape of a provisioned cluster; None for a serverless one."""
        if cluster.provisioned is None:
            return None
        group = cluster.provisioned.broker_node_group_info
        ebs = group.storage_info.ebs_storage_info
        throughput = ebs.provisioned_throughput
        return cls(
            instance_type=group.instance_type,
            broker_count=cluster.provisioned.number_of_broker_nodes,
            volume_gib=ebs.volume_size,
            provisioned_throughput_mibps=throughput.volume_throughput
            if throughput.enabled
            else None,
        )


class CostBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Monthly cost by part; a part is None when a price or a measurement it needs is missing,
    and `unknown` says which."""

    region: str
    currency: str
    brokers: float | None
    storage: float | None
    throughput: float | None
    express_storage: float | None
    express_data: float | None
    unknown: tuple[str, ...] = ()

    @property
    def total(self) -> float | None:
        parts = (
            self.brokers,
            self.storage,
            self.throughput,
            self.express_storage,
            self.express_data,
        )
        known = [part for part in parts if part is not None]
        return round(sum(known), 2) if len(known) == len(parts) else None

    def to_dict(self) -> dict[str, object]:
        return {**msgspec.to_builtins(self), "total": self.total}


def monthly_cost(shape: BilledShape, table: PriceTable, region: str) -> CostBreakdown:
    prices = table.region(region)
    unknown: list[str] = []

    def priced(amount: float, price: float | None, what: str) -> float | None:
        if price is None:
            unknown.append(f"{what} price in {region}")
            return None
        return round(amount * price, 2)

    broker_hours = shape.broker_count * HOURS_PER_MONTH
    brokers = priced(
        broker_hours, prices.broker_hour.get(shape.instance_type), f"{shape.instance_type} hour"
    )
    storage: float | None = 0.0
    throughput: float | None = 0.0
    express_storage: float | None = 0.0
    express_data: float | None = 0.0
    if is_express(shape.instance_type):
        if shape.express_storage_gib is None:
            unknown.append("Express storage used (StorageUsed) not measured")
            express_storage = None
        else:
            express_storage = priced(
                shape.express_storage_gib,
                prices.express_storage_gib_month,
                "Express storage GiB-month",
            )
        express_data = _express_data(shape, prices, region, unknown)
    else:
        storage = priced(
            (shape.volume_gib or 0) * shape.broker_count,
            prices.storage_gib_month,
            "storage GiB-month",
        )
        if shape.provisioned_throughput_mibps:
            throughput = priced(
                shape.provisioned_throughput_mibps * shape.broker_count,
                prices.provisioned_throughput_mibps_month,
                "provisioned throughput MiB/s-month",
            )
    return CostBreakdown(
        region=region,
        currency=table.currency,
        brokers=brokers,
        storage=storage,
        throughput=throughput,
        express_storage=express_storage,
        express_data=express_data,
        unknown=tuple(unknown),
    )


def _express_data(
    shape: BilledShape, prices: RegionPrices, region: str, unknown: list[str]
) -> float | None:
    total = 0.0
    for amount, price, what in (
        (shape.express_data_in_gb_month, prices.express_data_in_gb, "Express data in"),
        (shape.express_data_out_gb_month, prices.express_data_out_gb, "Express data out"),
    ):
        if amount is None:
            unknown.append(f"{what} (BytesIn/BytesOut) not measured")
            return None
        if price is None:
            unknown.append(f"{what} GB price in {region}")
            return None
        total += amount * price
    return round(total, 2)


class CostChange(msgspec.Struct, frozen=True, kw_only=True):
    """A decision's monthly cost before and after; None where either is unknown."""

    currency: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return round(self.after - self.before, 2)

    def describe(self) -> str:
        """E.g. "monthly cost 300.00 -> 330.00 USD (+30.00)"."""

        def amount(value: float | None) -> str:
            return "unknown" if value is None else f"{value:,.2f}"

        text = f"monthly cost {amount(self.before)} -> {amount(self.after)} {self.currency}"
        return text if self.delta is None else f"{text} ({self.delta:+,.2f})"

    def to_dict(self) -> dict[str, object]:
        return {**msgspec.to_builtins(self), "delta": self.delta}


def cost_change(before: CostBreakdown, after: CostBreakdown) -> CostChange:
    return CostChange(currency=before.currency, before=before.total, after=after.total)


class SizeRecommendation(msgspec.Struct, frozen=True, kw_only=True):
    instance_type: str
    broker_count: int


class RightSizing(Protocol):
    """What the broker policy would size a cluster to (instance type and broker count)."""

    def __call__(self, cluster: ClusterSnapshot, shape: BilledShape) -> SizeRecommendation: ...


def keep_size(cluster: ClusterSnapshot, shape: BilledShape) -> SizeRecommendation:
    """The size a cluster keeps when the broker policy has no change for it."""
    return SizeRecommendation(instance_type=shape.instance_type, broker_count=shape.broker_count)


def right_sizing_savings(
    cluster: ClusterSnapshot,
    shape: BilledShape,
    table: PriceTable,
    region: str,
    right_sizing: RightSizing = keep_size,
) -> tuple[SizeRecommendation, CostChange]:
    """The recommended size and the monthly cost change moving to it would bring."""
    recommended = right_sizing(cluster, shape)
    resized = msgspec.structs.replace(
        shape, instance_type=recommended.instance_type, broker_count=recommended.broker_count
    )
    change = cost_change(monthly_cost(shape, table, region), monthly_cost(resized, table, region))
    return recommended, change
