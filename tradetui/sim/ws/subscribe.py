"""Handles WS v2 `subscribe` / `unsubscribe` for `ticker`, `book`, `executions` and `balances`."""

from __future__ import annotations

from tradetui.sim import errors
from tradetui.sim.venue.exchange import SimExchange
from tradetui.sim.ws.private import PrivateFeeds
from tradetui.sim.ws.public import PublicFeeds
from tradetui.sim.ws.request import WsRequest, requested_pairs

BOOK_DEPTHS = (10, 25, 100, 500, 1000)
PUBLIC_CHANNELS = ("ticker", "book")
PRIVATE_CHANNELS = ("executions", "balances")


class Subscriptions:
    """The (un)subscribe methods; `trade` and `ohlc` are routed to TapeFeeds before these."""

    def __init__(self, exchange: SimExchange, public: PublicFeeds, private: PrivateFeeds) -> None:
        self.exchange = exchange
        self.public = public
        self.private = private

    def subscribe(self, request: WsRequest) -> None:
        channel = request.params.get("channel")
        if channel in PUBLIC_CHANNELS:
            self._subscribe_public(request, str(channel))
        elif channel in PRIVATE_CHANNELS:
            self._subscribe_private(request, str(channel))
        else:
            request.fail("Subscription name invalid")

    def _subscribe_public(self, request: WsRequest, channel: str) -> None:
        snapshot = request.params.get("snapshot", True) is not False
        depth = request.params.get("depth", 10)
        if channel == "book" and depth not in BOOK_DEPTHS:
            request.fail("Subscription depth not supported")
            return
        for pair in requested_pairs(request, self.exchange.instruments) or []:
            if self.public.is_subscribed(request.session, channel, pair):
                request.fail("Already subscribed", symbol=pair.symbol)
                continue
            result: dict[str, object] = {"channel": channel, "symbol": pair.symbol}
            if channel == "book":
                result["depth"] = depth
            request.ok({**result, "snapshot": snapshot})
            if channel == "ticker":
                self.public.subscribe_ticker(request.session, pair, snapshot)
            else:
                self.public.subscribe_book(request.session, pair, depth, snapshot)

    def _subscribe_private(self, request: WsRequest, channel: str) -> None:
        snapshot = request.params.get("snapshot", True) is not False
        account = self.exchange.accounts.account_for_token(request.params.get("token"))
        if account is None or not request.session.private:
            request.fail(errors.INVALID_SESSION)
            return
        if self.private.is_subscribed(request.session, channel, account):
            request.fail("Already subscribed")
            return
        request.session.account = account
        if channel == "executions":
            request.ok({"channel": channel, "maxratecount": 180, "snapshot": snapshot})
            snap_orders = request.params.get("snap_orders", True) is not False
            snap_trades = request.params.get("snap_trades", False) is True
            self.private.subscribe_executions(request.session, account, snap_orders, snap_trades)
        else:
            request.ok({"channel": channel, "snapshot": snapshot})
            self.private.subscribe_balances(request.session, account)

    def unsubscribe(self, request: WsRequest) -> None:
        channel = request.params.get("channel")
        if channel in PUBLIC_CHANNELS:
            for pair in requested_pairs(request, self.exchange.instruments) or []:
                result = {"channel": channel, "symbol": pair.symbol}
                if self.public.unsubscribe(request.session, str(channel), pair):
                    request.ok(result)
                else:
                    request.fail("Subscription Not Found", symbol=pair.symbol)
        elif channel in PRIVATE_CHANNELS:
            account = self.exchange.accounts.account_for_token(request.params.get("token"))
            if account is None:
                request.fail(errors.INVALID_SESSION)
            elif self.private.unsubscribe(request.session, str(channel), account):
                request.ok({"channel": channel})
            else:
                request.fail("Subscription Not Found")
        else:
            request.fail("Subscription name invalid")
