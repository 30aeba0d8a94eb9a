import { parquetMetadata } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import {
  GLUE_COLUMNS,
  NdjsonLineError,
  PRICE_TICK_COLUMNS,
  athenaColumnsDdl,
  decodeNdjson,
  decodeNdjsonStream,
  decodeParquet,
  encodeNdjson,
  encodeNdjsonLine,
  encodeParquet,
  type PriceTick,
} from './index';
import { missedTick, okTick } from './testing';

const ticks: PriceTick[] = [
  okTick({
    scheduled_time: '2026-11-27T00:00:01.000Z',
    bid: '97123.44',
    ask: '97123.45',
    trade_id: 86326522,
    volume_24h: '12345.6',
  }),
  missedTick('http_429', { scheduled_time: '2026-11-27T00:00:02.000Z' }),
  okTick({
    source: 'coinbase-ws-ticker',
    scheduled_time: null,
    sequence: 2 ** 40,
    trade_id: 9,
    product_id: 'ETH-USD',
    price: '3000.1',
  }),
];

describe('NDJSON codec', () => {
  it('round-trips records, one newline-terminated line each, schema column order', () => {
    const text = encodeNdjson(ticks);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(4);
    expect(Object.keys(JSON.parse(text.split('\n')[0] ?? ''))).toEqual(
      PRICE_TICK_COLUMNS.filter(
        (c) => c in (ticks[0] as object) && (ticks[0] as Record<string, unknown>)[c] !== undefined,
      ),
    );
    expect(decodeNdjson(text)).toEqual(ticks);
  });

  it('leaves out null optional columns but keeps required nulls', () => {
    const line = encodeNdjsonLine(missedTick('timeout', { bid: null }));
    expect(line).not.toContain('"bid"');
    expect(line).toContain('"price":null');
  });

  it('throws on the first bad line with its number, or reports each and goes on', () => {
    const good = encodeNdjsonLine(ticks[0] as PriceTick);
    const text = `${good}{"truncated":\n\n${good}${JSON.stringify({ ...ticks[0], price: '-3' })}\n`;
    expect(() => decodeNdjson(text)).toThrowError(
      expect.objectContaining({ name: 'NdjsonLineError', data: expect.objectContaining({ lineNumber: 2 }) }),
    );
    const bad: NdjsonLineError[] = [];
    const decoded = decodeNdjson(text, { onBadLine: (e) => bad.push(e) });
    expect(decoded).toHaveLength(2);
    expect(bad.map((e) => e.data.lineNumber)).toEqual([2, 5]);
    expect(bad[0]?.message).toMatch(/^line 2: not JSON/);
    expect(bad[1]?.data.issues[0]?.path).toBe('price');
  });

  it('tolerates CRLF and a missing final newline', () => {
    const text = encodeNdjson(ticks).replace(/\n/g, '\r\n').trimEnd();
    expect(decodeNdjson(text)).toEqual(ticks);
  });

  it('streams across chunk boundaries, including inside a multi-byte character', async () => {
    const tick = okTick({ scheduled_time: '2026-11-27T00:00:09.000Z' });
    // A bad line with a multi-byte character split across chunks must still be reported intact.
    const text = `${encodeNdjson(ticks)}{"x":"€uro"}\n${encodeNdjsonLine(tick)}`;
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
    const bad: NdjsonLineError[] = [];
    const out: PriceTick[] = [];
    for await (const t of decodeNdjsonStream(chunks, { onBadLine: (e) => bad.push(e) })) out.push(t);
    expect(out).toEqual([...ticks, tick]);
    expect(bad).toHaveLength(1);
    expect(bad[0]?.data.lineNumber).toBe(4);
    expect(bad[0]?.data.snippet).toBe('{"x":"€uro"}');
  });

  it('stream decoding without onBadLine throws at the bad line', async () => {
    const run = async () => {
      for await (const _ of decodeNdjsonStream(['{"a":1}\n'])) void _;
    };
    await expect(run()).rejects.toThrow(/line 1/);
  });
});

describe('Parquet codec', () => {
  it('round-trips the same records as NDJSON, int64 included', async () => {
    const bytes = encodeParquet(ticks);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('PAR1');
    expect(await decodeParquet(bytes)).toEqual(decodeNdjson(encodeNdjson(ticks)));
  });

  it('keeps whole ISO times as min/max statistics (readers prune row groups by them)', () => {
    const timed = [
      okTick({ scheduled_time: '2026-11-27T10:00:00.000Z', exchange_time: '2026-11-27T10:00:00.123456789Z' }),
      okTick({ scheduled_time: '2026-11-27T10:14:59.000Z', exchange_time: '2026-11-27T10:14:59.250000Z' }),
    ];
    const metadata = parquetMetadata(encodeParquet(timed));
    const stats = (name: string) =>
      metadata.row_groups[0]?.columns.find((c) => c.meta_data?.path_in_schema[0] === name)?.meta_data?.statistics;
    expect(stats('exchange_time')).toMatchObject({
      min_value: '2026-11-27T10:00:00.123456789Z',
      max_value: '2026-11-27T10:14:59.250000Z',
    });
    expect(stats('exchange_time')?.is_max_value_exact).not.toBe(false);
    expect(stats('scheduled_time')).toMatchObject({
      min_value: '2026-11-27T10:00:00.000Z',
      max_value: '2026-11-27T10:14:59.000Z',
    });
  });

  it('writes an empty file that reads back as no records', async () => {
    expect(await decodeParquet(encodeParquet([]))).toEqual([]);
  });

  it('names a file that is not Parquet', async () => {
    await expect(decodeParquet(new TextEncoder().encode('{"not":"parquet"}'))).rejects.toThrow(
      /not a readable Parquet file/,
    );
  });
});

describe('Glue columns', () => {
  it('derive from the schema, one per column, with Athena types', () => {
    expect(GLUE_COLUMNS.map((c) => c.name)).toEqual(PRICE_TICK_COLUMNS);
    expect(GLUE_COLUMNS.find((c) => c.name === 'sequence')?.type).toBe('bigint');
    expect(GLUE_COLUMNS.find((c) => c.name === 'price')?.type).toBe('string');
    expect(athenaColumnsDdl()).toContain('`record_id` string,\n  `product_id` string');
  });
});
