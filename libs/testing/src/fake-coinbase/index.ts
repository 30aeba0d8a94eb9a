export * from './fake-coinbase.server';
export * from './fake-coinbase.faults';
export * from './price-walk';
