// The base first, then each failure a call can end in; `missReasonOf` maps them to a record's miss reason.
export {
  CoinbaseError,
  CoinbaseHttpError,
  CoinbaseTimeoutError,
  CoinbaseNetworkError,
  CoinbaseParseError,
  CoinbaseRateLimitedError,
  CoinbaseAbortedError,
  CoinbaseArgumentError,
  missReasonOf,
  type CoinbaseErrorData,
  type PayloadIssue,
} from './coinbase.errors';
export {
  createCoinbaseClient,
  type CandleOptions,
  type CoinbaseClient,
  type CoinbaseClientOptions,
  type PollOptions,
} from './coinbase.client';
export { CANDLE_GRANULARITIES, type CandleGranularity } from './coinbase.mapper';
export { HostRateLimiters, TokenBucket, type TakeOptions, type TokenBucketOptions } from './token-bucket.limiter';
export { candlePages, type CandlePage } from './candle-pages';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.policy';
// The WebSocket feed's part of the door (owned with libs/coinbase/src/ws).
export {
  CoinbaseWsError,
  CoinbaseWsFeed,
  DEFAULT_COINBASE_WS_URL,
  feedGapToPriceTick,
  parseFeedMessage,
  TradeGapDetector,
  WS_GAP_DETECTION_MODES,
  WS_TICKER_SOURCE,
  WsClosedError,
  WsFeedParseError,
  wsTickerToPriceTick,
  WsStaleConnectionError,
  WsSubscribeError,
  type CoinbaseWsFeedOptions,
  type FeedGap,
  type FeedMessage,
  type MatchVerdict,
  type WsFeedEvent,
  type WsGapDetection,
} from './ws';
