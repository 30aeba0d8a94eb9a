import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenBucket, createCoinbaseClient } from '@btc-etl/coinbase';
import { PriceTickSchema, type PriceTick } from '@btc-etl/price-schema';
import { startFakeCoinbase, type FakeCoinbase } from '@btc-etl/testing';
import { CheckpointFile } from './backfill.checkpoint';
import { backfillCandles, outageJob, type BackfillJob } from './candle.backfill';

const NOW = Date.parse('2026-11-27T12:00:00.000Z');
// 700 minutes: three pages (300 + 300 + 100)
const job: BackfillJob = { productId: 'BTC-USD', fromMs: NOW - 700 * 60_000, toMs: NOW, granularity: 60 };

let fake: FakeCoinbase;
let dir: string;
beforeEach(async () => {
  fake = await startFakeCoinbase({ clock: () => NOW });
  dir = mkdtempSync(join(tmpdir(), 'backfill-'));
});
afterEach(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

const client = () =>
  createCoinbaseClient({
    exchangeUrl: fake.exchangeUrl,
    rateLimiter: new TokenBucket({ ratePerSecond: 1000, burst: 50 }),
    retry: { baseDelayMs: 10 },
  });
const checkpoint = () =>
  new CheckpointFile(dir, {
    productId: job.productId,
    granularity: 60,
    from: new Date(job.fromMs).toISOString(),
    to: new Date(job.toMs).toISOString(),
  });
const candleStarts = (ticks: readonly PriceTick[]) => ticks.map((t) => Date.parse(t.exchange_time as string));

describe('backfillCandles against the fake Coinbase REST server', () => {
  it('pages 300 candles per request and writes every bucket once, tagged backfilled', async () => {
    const written: PriceTick[] = [];
    const result = await backfillCandles(
      job,
      { client: client(), write: (t) => void written.push(...t), checkpoint: checkpoint() },
      new AbortController().signal,
    );
    const requests = fake.requestsTo({ endpoint: 'candles' });
    expect(requests).toHaveLength(3);
    expect(requests.map((r) => r.query.granularity)).toEqual(['60', '60', '60']);
    expect(result).toMatchObject({ pagesDone: 3, pagesTotal: 3, candles: 700, resumedFromPage: 0 });
    expect(candleStarts(written)).toEqual(Array.from({ length: 700 }, (_, i) => job.fromMs + i * 60_000));
    for (const t of written)
      expect(PriceTickSchema.parse(t)).toMatchObject({
        source: 'coinbase-candles',
        backfilled: true,
        granularity_s: 60,
      });
    expect(Number(written[0]?.price)).toBe(Number(fake.candleAt('BTC-USD', 60, job.fromMs / 1000)?.[4]));
    expect(checkpoint().load()).toBeNull(); // a finished job leaves nothing to resume
  });

  it('waits out a 429 for its Retry-After and then completes', async () => {
    fake.setFaults([{ endpoint: 'candles', nth: 2, fault: { kind: 'rate-limit', retryAfter: 1 } }]);
    const written: PriceTick[] = [];
    await backfillCandles(
      job,
      { client: client(), write: (t) => void written.push(...t), checkpoint: checkpoint() },
      new AbortController().signal,
    );
    const requests = fake.requestsTo({ endpoint: 'candles' });
    expect(requests.map((r) => r.status)).toEqual([200, 429, 200, 200]);
    // the retry came no sooner than the server asked
    expect((requests[2]?.receivedAt ?? 0) - (requests[1]?.answeredAt ?? 0)).toBeGreaterThanOrEqual(1_000 - 5);
    expect(new Set(written.map((t) => t.record_id)).size).toBe(700);
  });

  it('resumes after a crash at the first page not written, losing nothing', async () => {
    const written: PriceTick[] = [];
    let pages = 0;
    const crashing = (ticks: readonly PriceTick[]) => {
      if (++pages === 2) throw new Error('process killed'); // dies before page 2 is durable
      written.push(...ticks);
    };
    await expect(
      backfillCandles(
        job,
        { client: client(), write: crashing, checkpoint: checkpoint() },
        new AbortController().signal,
      ),
    ).rejects.toThrow('process killed');
    expect(checkpoint().load()).toMatchObject({ nextPage: 1, pagesTotal: 3, candles: 300 });

    fake.clearRequests();
    const result = await backfillCandles(
      job,
      { client: client(), write: (t) => void written.push(...t), checkpoint: checkpoint() },
      new AbortController().signal,
    );
    expect(result.resumedFromPage).toBe(1);
    expect(fake.requestsTo({ endpoint: 'candles' })).toHaveLength(2); // page 1 was not fetched again
    expect(new Set(written.map((t) => t.record_id)).size).toBe(700);
    expect(written).toHaveLength(700);
  });

  it('refuses to resume from a damaged checkpoint, naming the file', async () => {
    const cp = checkpoint();
    cp.save({
      version: 1,
      productId: 'BTC-USD',
      granularity: 60,
      from: 'a',
      to: 'b',
      nextPage: 1,
      pagesTotal: 3,
      candles: 1,
      updatedAt: 'x',
    });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(cp.path, '{"version":1,');
    await expect(
      backfillCandles(job, { client: client(), write: () => undefined, checkpoint: cp }, new AbortController().signal),
    ).rejects.toThrow(cp.path);
  });
});

describe('outageJob', () => {
  it('covers every second of the span with whole candles', () => {
    expect(outageJob('BTC-USD', '2026-11-27T10:00:30.5Z', '2026-11-27T10:02:00.000001Z', 60)).toEqual({
      productId: 'BTC-USD',
      fromMs: Date.parse('2026-11-27T10:00:00Z'),
      toMs: Date.parse('2026-11-27T10:03:00Z'),
      granularity: 60,
    });
  });
});
