"""Validates AddOrder parameters (REST and WS v2 alike) into an OrderRequest."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from tradetui.sim import errors
from tradetui.sim.errors import KrakenError
from tradetui.sim.instruments import PairSpec
from tradetui.sim.venue.orders import OrderRequest

KNOWN_OFLAGS = frozenset({"post", "fciq", "fcib", "nompp", "viqc"})
SUPPORTED_TIF = ("GTC", "IOC")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
_FREE_TEXT = re.compile(r"^[\x20-\x7e]{1,18}$")


def parse_decimal(value: object, name: str) -> Decimal:
    """A positive finite decimal, or `EGeneral:Invalid arguments:<name>`."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise errors.invalid_argument(name) from exc
    if not number.is_finite() or number <= 0:
        raise errors.invalid_argument(name)
    return number


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def valid_cl_ord_id(value: str) -> bool:
    """Kraken accepts a UUID (with or without dashes) or up to 18 printable ASCII characters."""
    return bool(_UUID.match(value) or _FREE_TEXT.match(value))


def build_request(
    pair: PairSpec,
    side: object,
    ordertype: object,
    volume: object,
    price: object = None,
    oflags: frozenset[str] = frozenset(),
    timeinforce: object = None,
    cl_ord_id: object = None,
    userref: object = None,
    validate: bool = False,
) -> OrderRequest:
    """Check every field the way Kraken does and return the request, or raise KrakenError."""
    if side not in ("buy", "sell"):
        raise errors.invalid_argument("type")
    if ordertype not in ("market", "limit"):
        raise errors.invalid_argument("ordertype")
    if not oflags <= KNOWN_OFLAGS:
        raise errors.invalid_argument("oflags")
    if volume is None:
        raise errors.invalid_argument("volume")
    qty = parse_decimal(volume, "volume")
    if "viqc" not in oflags and _places(qty) > pair.lot_decimals:
        raise errors.invalid_argument("volume")
    limit_price: Decimal | None = None
    if ordertype == "limit":
        if price is None:
            raise errors.invalid_argument("price")
        limit_price = parse_decimal(price, "price")
        if _places(limit_price) > pair.pair_decimals:
            raise KrakenError(
                f"EOrder:Invalid price:{pair.altname} price can only be specified up to "
                f"{pair.pair_decimals} decimals."
            )
    tif = "GTC" if timeinforce is None else str(timeinforce).upper()
    if ordertype == "market":
        tif = "IOC"
    if tif not in SUPPORTED_TIF:
        raise errors.invalid_argument("timeinforce")
    client_id: str | None = None
    if cl_ord_id is not None:
        client_id = str(cl_ord_id)
        if not valid_cl_ord_id(client_id):
            raise errors.invalid_argument("cl_ord_id")
    ref: int | None = None
    if userref is not None:
        try:
            ref = int(str(userref))
        except ValueError as exc:
            raise errors.invalid_argument("userref") from exc
        if not -(2**31) <= ref < 2**31:
            raise errors.invalid_argument("userref")
    return OrderRequest(
        pair=pair,
        side=str(side),
        ordertype=str(ordertype),
        volume=qty,
        price=limit_price,
        oflags=oflags,
        timeinforce=tif,
        cl_ord_id=client_id,
        userref=ref,
        validate=validate,
    )
