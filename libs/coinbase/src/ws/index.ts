export * from './ws-feed.client';
export * from './ws-feed.errors';
export {
  WS_TICKER_SOURCE,
  parseFeedMessage,
  wsTickerToPriceTick,
  feedGapToPriceTick,
  type FeedGap,
  type FeedMessage,
  type WsTickerMessage,
  type WsHeartbeatMessage,
} from './ws-feed.mapper';
export * from './ws-gap.detector';
