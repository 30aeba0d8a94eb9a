export {
  CoinbaseWsFeed,
  DEFAULT_COINBASE_WS_URL,
  WS_GAP_DETECTION_MODES,
  type CoinbaseWsFeedOptions,
  type WsFeedEvent,
  type WsGapDetection,
} from './ws-feed.client';
export {
  CoinbaseWsError,
  WsClosedError,
  WsFeedParseError,
  WsStaleConnectionError,
  WsSubscribeError,
} from './ws-feed.errors';
export {
  WS_TICKER_SOURCE,
  parseFeedMessage,
  wsTickerToPriceTick,
  feedGapToPriceTick,
  type FeedGap,
  type FeedMessage,
  type WsTickerMessage,
  type WsHeartbeatMessage,
  type WsMatchMessage,
} from './ws-feed.mapper';
export { TradeGapDetector, type MatchVerdict } from './ws-gap.detector';
