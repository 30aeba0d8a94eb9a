export { catchError } from './catch-error';
export { freePort, motoClientEnv, MotoMissingError, startMoto, type MotoServer } from './moto';
export { recordingS3Client, type SentS3Request } from './s3-request.recorder';
export {
  startFakeCoinbase,
  type FakeCoinbase,
  type StartFakeCoinbaseOptions,
} from './fake-coinbase/fake-coinbase.server';
export {
  type FakeApi,
  type FakeEndpoint,
  type Fault,
  type FaultRule,
  type InstalledFaultRule,
  type Latency,
} from './fake-coinbase/fake-coinbase.faults';
export { type FakeRequest, type FakeRequestFilter } from './fake-coinbase/fake-coinbase.request-log';
export { FAKE_CANDLE_GRANULARITIES, FAKE_MAX_CANDLES } from './fake-coinbase/fake-coinbase.routes';
export {
  createPriceWalk,
  DEFAULT_FAKE_PRODUCTS,
  type FakeCandle,
  type FakeProduct,
  type PriceWalk,
  type PriceWalkOptions,
} from './fake-coinbase/price-walk';
export {
  fakeTradePrice,
  FakeCoinbaseWs,
  startFakeCoinbaseWs,
  type FakeCoinbaseWsOptions,
  type FakeProductState,
} from './fake-coinbase-ws';
