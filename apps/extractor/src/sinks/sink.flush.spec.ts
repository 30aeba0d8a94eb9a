import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '@btc-etl/object-store';
import { silentLogger } from '../ops/logger';
import type { FirehosePutter } from './firehose.sink';
import { createSinkFactory, type SinkTarget } from './sink.factory';
import type { SinkEntry } from './tick-sink.port';

const settings = {
  RAW_BUCKET: 'btc-etl-raw',
  FIREHOSE_STREAM_NAME: 'btc-etl-ticks',
  FIREHOSE_MAX_LATENCY_MS: 60_000,
  BUFFER_INTERVAL_S: 900,
  BUFFER_SIZE_MB: 5,
};

/** A Firehose that takes every record (the sink's own port; the HTTP protocol is covered by firehose.sink.int.spec). */
const acceptingFirehose: FirehosePutter = {
  putRecordBatch: async (_stream, records) => ({
    failedPutCount: 0,
    responses: records.map((_, i) => ({ recordId: `r${i}` })),
  }),
};

const entry = (i: number): SinkEntry => {
  const line = `{"n":${i}}\n`;
  return { line, bytes: line.length, segment: 1, acceptedAt: 0 };
};

describe.each(['firehose', 'local'] as const)('the %s sink built by the factory', (kind) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'extractor-sink-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const target = (): SinkTarget =>
    kind === 'firehose'
      ? { kind, client: acceptingFirehose }
      : { kind, store: new LocalObjectStore({ root: join(dir, 'data') }) };

  it('is the sink its target names', () => {
    const sink = createSinkFactory(settings, target(), { logger: silentLogger })(() => undefined);
    expect(sink.name).toBe(kind);
    sink.close();
  });

  it(
    'flush leaves no abort listener on the signal, ' + 'however many times it is called (a drain loop calls it often)',
    async () => {
      const delivered: SinkEntry[] = [];
      const sink = createSinkFactory(settings, target(), { logger: silentLogger })((entries) =>
        delivered.push(...entries),
      );
      const shutdown = new AbortController();
      const turns = 50;
      for (let i = 0; i < turns; i++) {
        sink.write([entry(i)]);
        await sink.flush(shutdown.signal);
      }
      expect(delivered.map((e) => e.line)).toEqual(Array.from({ length: turns }, (_, i) => entry(i).line));
      expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
      sink.close();
    },
  );
});
