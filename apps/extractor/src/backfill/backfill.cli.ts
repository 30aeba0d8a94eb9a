import { parseArgs } from 'node:util';
import { CANDLE_GRANULARITIES, type CandleGranularity } from '@btc-etl/coinbase';
import { ProductId } from '@btc-etl/price-schema';
import { ConfigError } from '../extractor.errors';
import type { BackfillJob, BackfillProgress } from './candle.backfill';

const FLAGS = ['product', 'from', 'to', 'granularity'] as const;

/**
 * `--product BTC-USD --from ISO --to ISO [--granularity 60]`, validated: a bad value is a ConfigError naming the
 * flag. Other flags are returned for the extractor's own config (sink, data dir, Coinbase URL...).
 */
export function parseBackfillArgs(argv: readonly string[]): { job: BackfillJob; rest: string[] } {
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const rest: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && (FLAGS as readonly string[]).includes(t.name)) continue;
    if (t.kind === 'option') rest.push(t.rawName, ...(t.value === undefined ? [] : [t.value]));
    if (t.kind === 'positional') rest.push(t.value);
  }
  const get = (f: (typeof FLAGS)[number]) => (typeof values[f] === 'string' ? (values[f] as string) : undefined);
  const product = get('product');
  if (!product || !ProductId.safeParse(product).success)
    throw new ConfigError('--product', product, 'expected a Coinbase product id such as BTC-USD');
  const time = (f: 'from' | 'to') => {
    const v = get(f);
    const ms = v === undefined ? NaN : Date.parse(v);
    if (v === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) {
      throw new ConfigError(`--${f}`, v, 'expected an ISO-8601 time such as 2026-11-27T00:00:00Z');
    }
    return ms;
  };
  const fromMs = time('from');
  const toMs = time('to');
  if (toMs <= fromMs) throw new ConfigError('--to', get('to'), `must be after --from ${get('from')}`);
  const g = Number(get('granularity') ?? '60');
  if (!(CANDLE_GRANULARITIES as readonly number[]).includes(g)) {
    throw new ConfigError('--granularity', get('granularity'), `must be one of ${CANDLE_GRANULARITIES.join(', ')}`);
  }
  return { job: { productId: product, fromMs, toMs, granularity: g as CandleGranularity }, rest };
}

/** One line of progress for a terminal: `[#####.....] 12/40 pages, 3,600 candles`. */
export function progressLine(p: BackfillProgress, width = 30): string {
  const done = p.pagesTotal === 0 ? width : Math.round((p.pagesDone / p.pagesTotal) * width);
  return (
    `[${'#'.repeat(done)}${'.'.repeat(width - done)}] ` +
    `${p.pagesDone}/${p.pagesTotal} pages, ${p.candles.toLocaleString('en-US')} candles`
  );
}
