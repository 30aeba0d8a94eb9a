export * from './moto';
export * from './fake-coinbase-ws';
export * from './fake-coinbase';
export { catchError } from './catch-error';
