"""Public REST endpoints of the simulator, through an unmodified ccxt.pro kraken client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import ccxt.pro
import pytest
from ccxt.base.errors import BadSymbol, ExchangeError

T = TypeVar("T")


def within(awaitable: Awaitable[T], seconds: float = 10.0) -> Awaitable[T]:
    """Bound an await so that nothing in these tests can hang."""
    return asyncio.wait_for(awaitable, seconds)


async def test_load_markets_has_pairs_with_kraken_precisions(ex: ccxt.pro.kraken) -> None:
    for symbol in ("BTC/USD", "ETH/USD", "SOL/USD"):
        assert symbol in ex.symbols
    btc = ex.market("BTC/USD")
    assert btc["id"] == "XXBTZUSD"
    assert btc["altname"] == "XBTUSD"
    assert btc["wsId"] == "XBT/USD"
    assert btc["active"] is True
    assert btc["precision"] == {"amount": 1e-08, "price": 0.1}
    assert btc["limits"]["amount"]["min"] == 0.00005
    assert btc["limits"]["cost"]["min"] == 0.5
    assert btc["taker"] == 0.0026
    assert btc["maker"] == 0.0016
    sol = ex.market("SOL/USD")
    assert (sol["id"], sol["base"], sol["quote"]) == ("SOLUSD", "SOL", "USD")
    assert sol["precision"]["price"] == 0.01
    assert ex.currencies["BTC"]["id"] == "XXBT"
    assert ex.currencies["USD"]["precision"] == 0.0001


async def test_fetch_ticker_is_consistent_with_book(ex: ccxt.pro.kraken) -> None:
    ticker = await within(ex.fetch_ticker("BTC/USD"))
    assert ticker["symbol"] == "BTC/USD"
    assert 0 < ticker["bid"] < ticker["ask"]
    spread_bps = (ticker["ask"] - ticker["bid"]) / ticker["bid"] * 1e4
    assert spread_bps < 10
    assert 50_000 < ticker["last"] < 70_000
    assert ticker["baseVolume"] > 0 and ticker["quoteVolume"] > 0
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    tickers = await within(ex.fetch_tickers(["ETH/USD", "SOL/USD"]))
    assert set(tickers) == {"ETH/USD", "SOL/USD"}
    assert 2_000 < tickers["ETH/USD"]["last"] < 4_000
    assert 100 < tickers["SOL/USD"]["last"] < 200


async def test_fetch_order_book_is_sorted_and_deep(ex: ccxt.pro.kraken) -> None:
    book = await within(ex.fetch_order_book("ETH/USD"))
    bids, asks = book["bids"], book["asks"]
    assert len(bids) >= 25 and len(asks) >= 25
    assert bids[0][0] < asks[0][0]
    assert [level[0] for level in bids] == sorted((level[0] for level in bids), reverse=True)
    assert [level[0] for level in asks] == sorted(level[0] for level in asks)
    assert all(level[1] > 0 for level in bids + asks)
    near = sum(level[1] for level in asks[:5])
    far = sum(level[1] for level in asks[-5:])
    assert near > far, "depth should thin away from the touch"
    limited = await within(ex.fetch_order_book("ETH/USD", 5))
    assert len(limited["bids"]) == 5 and len(limited["asks"]) == 5


async def test_time_and_status(ex: ccxt.pro.kraken) -> None:
    assert await within(ex.fetch_time()) > 1_600_000_000_000
    assert (await within(ex.fetch_status()))["status"] == "ok"


async def test_unknown_pair_on_the_wire(ex: ccxt.pro.kraken) -> None:
    """ccxt checks symbols locally; the server's own error is seen through raw calls."""
    with pytest.raises(BadSymbol):
        await within(ex.fetch_ticker("PEPE/USD"))
    with pytest.raises(ExchangeError, match="EQuery:Unknown asset pair"):
        await within(ex.public_get_ticker({"pair": "NOPE"}))
