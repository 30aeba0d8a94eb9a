import { describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { QueryConfigError } from '../query.errors';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERY_ENV_VARIABLES, loadConfig, objectStoreConfig } from './query.config';

const S3_BUCKETS = { RAW_BUCKET: 'acme-raw', BACKUP_BUCKET: 'acme-backup', SILVER_BUCKET: 'acme-silver' };

describe('loadConfig', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.RAW_BUCKET).toBe('btc-etl-raw');
    expect(config.RAW_PREFIX).toBe('raw/');
    expect(config.SILVER_BUCKET).toBe('btc-etl-silver');
    expect(config.QUERY_LAYER).toBe('auto');
  });

  it('refuses an unknown QUERY_LAYER and names it', () => {
    expect(() => loadConfig({ QUERY_LAYER: 'gold' })).toThrow(/QUERY_LAYER/);
  });

  it.each(['', 'raw/', 'bronze/ticks/'])('accepts RAW_PREFIX %j', (prefix) => {
    expect(loadConfig({ RAW_PREFIX: prefix }).RAW_PREFIX).toBe(prefix || 'raw/');
  });

  it.each(['../../secret/', 'raw/../../', 'raw//', '%2e%2e/', 'raw', '/abs/'])(
    'refuses RAW_PREFIX %j and names it',
    (prefix) => {
      let error: unknown;
      try {
        loadConfig({ RAW_PREFIX: prefix });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QueryConfigError);
      expect((error as Error).message).toContain('RAW_PREFIX');
    },
  );

  it('guesses no bucket name against S3: with OBJECT_STORE=s3 each missing bucket variable is named', () => {
    const error = catchError(() => loadConfig({ OBJECT_STORE: 's3', BACKUP_BUCKET: 'acme-backup' }), QueryConfigError);
    expect(error.data.issues.map((i) => i.field)).toEqual(['RAW_BUCKET', 'SILVER_BUCKET']);
    expect(error.message).toMatch(/^RAW_BUCKET: is required with OBJECT_STORE=s3 .*; SILVER_BUCKET: is required/);
  });

  it('names a bad variable and a missing bucket in one error', () => {
    const error = catchError(
      () => loadConfig({ OBJECT_STORE: 's3', ...S3_BUCKETS, SILVER_BUCKET: undefined, QUERY_LAYER: 'gold' }),
      QueryConfigError,
    );
    expect(error.data.issues.map((i) => i.field)).toEqual(['QUERY_LAYER', 'SILVER_BUCKET']);
  });

  it('takes the bucket names and EXPECTED_BUCKET_OWNER against S3, and hands the owner to the S3 adapter', () => {
    const config = loadConfig({ OBJECT_STORE: 's3', ...S3_BUCKETS, EXPECTED_BUCKET_OWNER: '123456789012' });
    expect([config.RAW_BUCKET, config.BACKUP_BUCKET, config.SILVER_BUCKET]).toEqual(Object.values(S3_BUCKETS));
    expect(objectStoreConfig(config)).toEqual({
      kind: 's3',
      forcePathStyle: false,
      expectedBucketOwner: '123456789012',
    });
    expect(objectStoreConfig(loadConfig({ OBJECT_STORE: 's3', ...S3_BUCKETS }))).toEqual({
      kind: 's3',
      forcePathStyle: false,
    });
  });

  it.each(['12345678901', '1234567890123', 'acme'])('refuses EXPECTED_BUCKET_OWNER %j and names it', (owner) => {
    const error = catchError(() => loadConfig({ EXPECTED_BUCKET_OWNER: owner }), QueryConfigError);
    expect(error.message).toBe(`EXPECTED_BUCKET_OWNER: not a 12-digit AWS account id (got ${JSON.stringify(owner)})`);
  });

  it('keeps the local defaults for the local store', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/data' });
    expect(objectStoreConfig(config)).toEqual({ kind: 'local', root: '/tmp/data' });
    expect([config.RAW_BUCKET, config.BACKUP_BUCKET, config.SILVER_BUCKET]).toEqual([
      'btc-etl-raw',
      'btc-etl-backup',
      'btc-etl-silver',
    ]);
  });

  it("is documented: the README's configuration table has a row for every variable", () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    expect(QUERY_ENV_VARIABLES.filter((name) => !readme.includes(`| \`${name}\``))).toEqual([]);
  });
});
