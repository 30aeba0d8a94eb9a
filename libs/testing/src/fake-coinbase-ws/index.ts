export {
  fakeTradePrice,
  FakeCoinbaseWs,
  startFakeCoinbaseWs,
  type FakeCoinbaseWsOptions,
  type FakeLoss,
  type FakeProductState,
} from './fake-coinbase-ws.server';
