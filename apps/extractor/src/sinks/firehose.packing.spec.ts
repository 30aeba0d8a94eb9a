import { describe, expect, it } from 'vitest';
import { batchLength, billedBytes, FIREHOSE_LIMITS, packRecords, recordData } from './firehose.packing';
import { isRetryableFirehoseError } from './firehose.sink';
import type { SinkEntry } from './tick-sink.port';

const entry = (bytes: number, i = 0): SinkEntry => ({
  line: `${String(i).padEnd(bytes - 1, 'x')}\n`,
  bytes,
  segment: 1,
  acceptedAt: 0,
});

describe('Firehose packing', () => {
  it('packs whole lines, in order, into records no larger than the limit', () => {
    const entries = Array.from({ length: 10 }, (_, i) => entry(300, i));
    const records = packRecords(entries, 1000);
    expect(records.map((r) => r.entries.length)).toEqual([3, 3, 3, 1]);
    expect(records.flatMap((r) => r.entries)).toEqual(entries);
    expect(Buffer.from(recordData(records[0] as (typeof records)[number])).toString()).toBe(
      entries
        .slice(0, 3)
        .map((e) => e.line)
        .join(''),
    );
  });

  it('fills batches up to 500 records or 4 MiB, whichever comes first', () => {
    const small = packRecords(
      Array.from({ length: 600 }, (_, i) => entry(100, i)),
      100,
    );
    expect(batchLength(small)).toBe(500);
    const big = packRecords(Array.from({ length: 6 }, (_, i) => entry(FIREHOSE_LIMITS.maxRecordBytes, i)));
    expect(batchLength(big)).toBe(4); // 4 x 1000 KiB <= 4 MiB < 5 x 1000 KiB
  });

  it('bills each record as at least 5 KiB, in 5 KiB steps', () => {
    expect(billedBytes(300)).toBe(5120);
    expect(billedBytes(5120)).toBe(5120);
    expect(billedBytes(5121)).toBe(10240);
  });

  it('retries throttling, 5xx and network errors promptly, not a missing stream', () => {
    expect(
      isRetryableFirehoseError(
        Object.assign(new Error('x'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 400 } }),
      ),
    ).toBe(true);
    expect(
      isRetryableFirehoseError(
        Object.assign(new Error('x'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }),
      ),
    ).toBe(true);
    expect(isRetryableFirehoseError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(
      isRetryableFirehoseError(
        Object.assign(new Error('x'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }),
      ),
    ).toBe(false);
  });
});
