export * from './fake-coinbase-ws.server';
