export * from './coinbase.errors';
export * from './coinbase.client';
export * from './coinbase.mapper';
export * from './token-bucket.limiter';
export * from './candle-pages';
export { DEFAULT_RETRY_POLICY, isRetryable, parseRetryAfter, retryDelayMs, type RetryPolicy } from './retry.policy';
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
  type WsHeartbeatMessage,
  type WsMatchMessage,
  type WsTickerMessage,
} from './ws';
