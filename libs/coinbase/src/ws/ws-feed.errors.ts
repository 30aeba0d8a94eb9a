import { DataError, type ErrorData } from '@btc-etl/errors';
import type { MissReason } from '@btc-etl/price-schema';

/**
 * Base of the WebSocket feed client's errors. They travel inside `disconnected` / `parse_error` events (the client
 * never throws them out of `run`: it reconnects forever), carrying what a log line or a retry policy needs in
 * `data` and, where code reads them, typed fields. `missReason` is what the outage is recorded as.
 */
export class CoinbaseWsError<D extends ErrorData = ErrorData> extends DataError<D & { missReason: MissReason }> {
  readonly missReason: MissReason;
  constructor(message: string, data: D, options?: ErrorOptions, missReason: MissReason = 'disconnected') {
    super(message, { ...data, missReason }, options);
    this.missReason = missReason;
  }
}

/** A frame that is not a valid feed message; `frame` is its first 200 characters. */
export class WsFeedParseError extends CoinbaseWsError<{ frame: string; detail: string }> {
  readonly frame: string;
  readonly detail: string;
  constructor(frame: string, detail: string, options?: ErrorOptions) {
    const head = frame.length > 200 ? `${frame.slice(0, 200)}...` : frame;
    super(`feed message rejected (${detail}): ${head}`, { frame: head, detail }, options, 'parse_error');
    this.frame = head;
    this.detail = detail;
  }
}

/** No message from a product, not even a heartbeat, for longer than the timeout: the socket looks open but is dead. */
export class WsStaleConnectionError extends CoinbaseWsError<{
  productId: string;
  silentMs: number;
  timeoutMs: number;
}> {
  readonly productId: string;
  readonly silentMs: number;
  readonly timeoutMs: number;
  constructor(productId: string, silentMs: number, timeoutMs: number) {
    super(
      `no message (not even a heartbeat) for ${productId} in ${silentMs} ms ` +
        `(timeout ${timeoutMs} ms): connection is stale`,
      {
        productId,
        silentMs,
        timeoutMs,
      },
    );
    this.productId = productId;
    this.silentMs = silentMs;
    this.timeoutMs = timeoutMs;
  }
}

/** The socket closed (by the server, the network, or a failed handshake). `code` 1006 means no close frame. */
export class WsClosedError extends CoinbaseWsError<{ code: number; reason: string }> {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, options?: ErrorOptions) {
    super(`feed connection closed: code ${code}${reason ? ` (${reason})` : ''}`, { code, reason }, options);
    this.code = code;
    this.reason = reason;
  }
}

/** The feed did not confirm the subscription in time, or answered it with an `error` message. */
export class WsSubscribeError extends CoinbaseWsError<{ reason: string }> {
  readonly reason: string;
  constructor(reason: string) {
    super(`subscription failed: ${reason}`, { reason });
    this.reason = reason;
  }
}
