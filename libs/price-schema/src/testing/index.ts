// The testing door of price-schema: record factories for specs, fixtures and benchmarks, never production code
// (eslint's no-restricted-imports holds that outside test files).
export { missedTick, okTick } from './price-tick.factory';
export {
  decimalDigits,
  edgyTime,
  hexDigit,
  mutateTick,
  seededRandom,
  tickMutation,
  wildValue,
  type TickMutation,
  validTickOf,
} from './price-tick.arbitraries';
