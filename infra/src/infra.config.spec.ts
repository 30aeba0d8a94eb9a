import { catchError } from '@btc-etl/testing';
import { describe, expect, it } from 'vitest';
import { InfraConfigError } from './infra.errors';
import { glueName, pascalPrefix, queueVisibilitySeconds, readInfraConfig } from './infra.config';

const from = (context: Record<string, unknown>) => readInfraConfig((key) => context[key]);

describe('readInfraConfig', () => {
  it('gives the documented defaults for an empty context (env-agnostic: no account, no region)', () => {
    expect(from({})).toEqual({
      namePrefix: 'btc-etl',
      logRetentionDays: 30,
      firehoseBufferSizeMb: 5,
      firehoseBufferIntervalSeconds: 60,
      rawTransitionDays: 30,
      backupTransitionDays: 90,
      backupNoncurrentExpirationDays: 90,
      backupObjectLockDays: 90,
      backupObjectLockMode: 'governance',
      backupMaxConcurrency: 5,
      athenaResultsExpirationDays: 7,
      athenaBytesScannedCutoffMb: 1024,
      backupTimeoutSeconds: 60,
      backupMemoryMb: 256,
      backupBatchSize: 10,
      backupBatchWindowSeconds: 5,
      extractorDesiredCount: 1,
      extractorCapacity: 'fargate',
      extractorNetwork: 'public-ip',
      projectionStart: '2026/01/01/00',
    });
  });

  it('reads `-c key=value` strings as numbers and keeps account and region', () => {
    const config = from({
      account: '123456789012',
      region: 'eu-west-1',
      firehoseBufferSizeMb: '64',
      backupBatchSize: '100',
    });
    expect(config).toMatchObject({
      account: '123456789012',
      region: 'eu-west-1',
      firehoseBufferSizeMb: 64,
      backupBatchSize: 100,
    });
  });

  it('treats an empty value as unset', () => {
    expect(from({ namePrefix: '' }).namePrefix).toBe('btc-etl');
  });

  it.each([
    ['firehoseBufferSizeMb', '129'],
    ['firehoseBufferIntervalSeconds', '-1'],
    ['rawTransitionDays', '10'],
    ['athenaBytesScannedCutoffMb', '5'],
    ['logRetentionDays', '42'],
    ['namePrefix', 'Btc_Etl'],
    ['account', '1234'],
    ['region', 'mars'],
    ['backupBatchWindowSeconds', 'soon'],
    ['projectionStart', '2026-01-01'],
    ['backupObjectLockMode', 'legal-hold'],
    ['backupObjectLockDays', '0'],
    ['backupMaxConcurrency', '1'],
    ['backupReplicaRegion', 'EU'],
  ])('rejects %s=%s naming the key and the value', (key, value) => {
    const error = (() => {
      try {
        from({ [key]: value });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InfraConfigError);
    expect((error as InfraConfigError).issues.map((i) => i.key)).toEqual([key]);
    expect((error as Error).message).toContain(`-c ${key}=${JSON.stringify(value)}`);
  });

  it('reports every bad key at once', () => {
    expect(() => from({ firehoseBufferSizeMb: '0', backupMemoryMb: '64' })).toThrow(
      /firehoseBufferSizeMb[\s\S]*backupMemoryMb/,
    );
  });

  it('refuses a batch size above 10 without a batching window (Lambda would reject the mapping)', () => {
    expect(() => from({ backupBatchSize: '11', backupBatchWindowSeconds: '0' })).toThrow(
      /backupBatchSize.*batching window|batch size above 10/,
    );
    expect(from({ backupBatchSize: '11', backupBatchWindowSeconds: '1' }).backupBatchSize).toBe(11);
  });

  it.each([
    [
      'a noncurrent-version expiry inside the Object Lock',
      { backupObjectLockDays: '120' },
      'backupNoncurrentExpirationDays',
      /must be >= backupObjectLockDays \(120\)/,
    ],
    [
      'extractorNetwork=private-endpoints (no route to Coinbase)',
      { extractorNetwork: 'private-endpoints' },
      'extractorNetwork',
      /no route to Coinbase[\s\S]*private-nat/,
    ],
    [
      'a replica account without the source account',
      { backupReplicaAccount: '222233334444' },
      'backupReplicaAccount',
      /needs the `account` context/,
    ],
    [
      'a replica in the same region and account',
      { region: 'us-east-1', backupReplicaRegion: 'us-east-1' },
      'backupReplicaRegion',
      /another region or another account/,
    ],
    [
      'a replica in the same account (given twice) and region',
      { account: '111122223333', backupReplicaAccount: '111122223333' },
      'backupReplicaAccount',
      /another region or another account/,
    ],
  ])('refuses %s, naming the key', (_case, context, key, message) => {
    const error = catchError(() => from(context), InfraConfigError);
    expect(error.issues.map((i) => i.key)).toEqual([key]);
    expect(error.message).toMatch(message);
  });

  it('says a refused default was left unset rather than printing undefined', () => {
    const error = catchError(() => from({ backupObjectLockDays: '120' }), InfraConfigError);
    expect(error.message).toContain(
      '-c backupNoncurrentExpirationDays=(unset, its default): must be >= backupObjectLockDays',
    );
  });

  it('accepts a replica in another region, or in another account of the same region', () => {
    expect(from({ backupReplicaRegion: 'eu-west-1' }).backupReplicaRegion).toBe('eu-west-1');
    expect(from({ account: '111122223333', backupReplicaAccount: '222233334444' }).backupReplicaAccount).toBe(
      '222233334444',
    );
    expect(from({ backupObjectLockDays: '30', backupNoncurrentExpirationDays: '30' }).backupObjectLockDays).toBe(30);
  });

  it('sizes the queue visibility as 6 x timeout + batching window', () => {
    expect(queueVisibilitySeconds({ backupTimeoutSeconds: 900, backupBatchWindowSeconds: 300 })).toBe(5700);
  });
});

describe('names', () => {
  it('derives the stack prefix and the Glue name from namePrefix', () => {
    expect(pascalPrefix('btc-etl')).toBe('BtcEtl');
    expect(pascalPrefix('btc-etl-dev2')).toBe('BtcEtlDev2');
    expect(glueName('btc-etl-dev')).toBe('btc_etl_dev');
  });
});
