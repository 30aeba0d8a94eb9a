import { createHash } from 'node:crypto';
import type { PriceSource } from './price-tick.schema';

export interface RecordIdParts {
  productId: string;
  source: PriceSource;
  /** The second a poll was due: the identity of a polled tick, so a re-sent or re-polled tick keeps its id. */
  scheduledTime?: string | null;
  /** The feed's own per-product sequence: the identity of a streamed message. */
  sequence?: number | null;
  /** Exchange time: the identity of a candle (its bucket start) when there is neither of the above. */
  exchangeTime?: string | null;
}

/**
 * Deterministic record id: 32 hex digits of SHA-256 over product, source and the tick's identity
 * (scheduled time, else sequence, else exchange time). Duplicates downstream keep the same id.
 * @example
 * recordId({ productId: 'BTC-USD', source: 'coinbase-exchange-ticker', scheduledTime: '2026-11-27T19:53:15.000Z' })
 */
export function recordId(parts: RecordIdParts): string {
  const identity =
    parts.scheduledTime != null
      ? `s:${parts.scheduledTime}`
      : parts.sequence != null
        ? `q:${parts.sequence}`
        : parts.exchangeTime != null
          ? `e:${parts.exchangeTime}`
          : null;
  if (identity === null) {
    throw new TypeError(
      `recordId(${parts.productId}, ${parts.source}) needs a scheduledTime, sequence or exchangeTime`,
    );
  }
  return createHash('sha256').update(`${parts.productId}|${parts.source}|${identity}`).digest('hex').slice(0, 32);
}
