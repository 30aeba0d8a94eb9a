export * from './coinbase.errors';
export * from './coinbase.client';
export * from './coinbase.mapper';
export * from './token-bucket.limiter';
export * from './candle-pages';
export { DEFAULT_RETRY_POLICY, isRetryable, parseRetryAfter, retryDelayMs, type RetryPolicy } from './retry.policy';
export * from './ws';
export * from './ws';
