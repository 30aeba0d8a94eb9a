import { catchError } from '@btc-etl/testing';
import { describe, expect, it } from 'vitest';
import {
  parseSilverKey,
  parseSilverManifest,
  parseSilverWatermark,
  SILVER_WATERMARK_KEY,
  S3KeyError,
  silverHourOf,
  silverKey,
  silverManifestKey,
  silverPartitionPrefix,
} from './index';

const hour = new Date('2026-11-27T19:00:00Z');

describe('silver keys', () => {
  it('builds the Hive-style partition folder in UTC', () => {
    expect(silverPartitionPrefix({ productId: 'BTC-USD', hour })).toBe(
      'silver/ticks/product_id=BTC-USD/dt=2026-11-27/hour=19/',
    );
    expect(silverPartitionPrefix({ productId: 'ETH-EUR', hour: new Date('2027-01-01T00:00:00+05:00') })).toBe(
      'silver/ticks/product_id=ETH-EUR/dt=2026-12-31/hour=19/',
    );
  });

  it('round-trips a file key through parse', () => {
    const key = silverKey({ productId: 'BTC-USD', hour, name: 'g000002-ab12.parquet' });
    expect(key).toBe('silver/ticks/product_id=BTC-USD/dt=2026-11-27/hour=19/g000002-ab12.parquet');
    expect(parseSilverKey(key)).toEqual({ productId: 'BTC-USD', hour, dt: '2026-11-27', name: 'g000002-ab12.parquet' });
  });

  it('names the manifest inside the partition folder with a leading underscore (Athena skips it)', () => {
    expect(silverManifestKey({ productId: 'BTC-USD', hour })).toBe(
      'silver/ticks/product_id=BTC-USD/dt=2026-11-27/hour=19/_manifest.json',
    );
  });

  it('truncates a time to its UTC hour', () => {
    expect(silverHourOf(new Date('2026-11-27T19:59:59.999Z'))).toEqual(hour);
    expect(silverHourOf(Date.parse('2026-11-27T20:00:00.000Z'))).toEqual(new Date('2026-11-27T20:00:00Z'));
  });

  it.each([
    ['an hour that is not the start of one', { productId: 'BTC-USD', hour: new Date('2026-11-27T19:00:01Z') }],
    ['a product that is not a product id', { productId: 'btc/usd', hour }],
  ])('refuses %s', (_what, partition) => {
    expect(catchError(() => silverPartitionPrefix(partition), S3KeyError).message).toContain('silverPartitionPrefix');
  });

  it.each([
    ['a raw key', 'raw/2026/11/27/19/s-1-2026-11-27-19-00-00-1b4e28ba-2fa1-11d2-883f-0016d3cca427'],
    ['a non-calendar hour', 'silver/ticks/product_id=BTC-USD/dt=2026-02-30/hour=01/a.parquet'],
    ['hour 24', 'silver/ticks/product_id=BTC-USD/dt=2026-02-01/hour=24/a.parquet'],
    ['a bad product folder', 'silver/ticks/product_id=x/dt=2026-02-01/hour=01/a.parquet'],
  ])('parse refuses %s, naming the key', (_what, key) => {
    expect(catchError(() => parseSilverKey(key), S3KeyError).key).toBe(key);
  });

  it('refuses a file name with a slash', () => {
    catchError(() => silverKey({ productId: 'BTC-USD', hour, name: 'a/b.parquet' }), S3KeyError);
  });
});

describe('silver manifest', () => {
  const manifest = {
    format: 'btc-etl-silver-manifest/1',
    productId: 'BTC-USD',
    hour: hour.toISOString(),
    generation: 3,
    files: [{ name: 'g000003-aa.parquet', rows: 10, bytes: 1234 }],
    rows: 10,
    writtenAt: '2026-11-27T21:00:00.000Z',
  };

  it('parses what it describes', () => {
    expect(parseSilverManifest('k', JSON.stringify(manifest))).toEqual(manifest);
  });

  it.each([
    ['not JSON', '{'],
    ['a wrong format tag', JSON.stringify({ ...manifest, format: 'other' })],
    ['an unknown field', JSON.stringify({ ...manifest, extra: 1 })],
    ['generation 0', JSON.stringify({ ...manifest, generation: 0 })],
  ])('refuses %s, naming the key', (_what, body) => {
    const error = catchError(() => parseSilverManifest('silver/x/_manifest.json', body), S3KeyError);
    expect(error.message).toContain('silver/x/_manifest.json');
  });
});

describe('silver watermark', () => {
  it('parses a watermark and refuses one whose time is not a time', () => {
    const w = { format: 'btc-etl-silver-watermark/1', rawCompleteBefore: '2026-11-27T19:00:00.000Z', updatedAt: 'x' };
    expect(parseSilverWatermark(SILVER_WATERMARK_KEY, JSON.stringify(w))).toEqual(w);
    const bad = JSON.stringify({ ...w, rawCompleteBefore: 'soon' });
    expect(catchError(() => parseSilverWatermark(SILVER_WATERMARK_KEY, bad), S3KeyError).key).toBe(
      SILVER_WATERMARK_KEY,
    );
  });
});
