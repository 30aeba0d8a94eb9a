import { createObjectStore, type ObjectStore } from '@btc-etl/object-store';
import type { Clock } from '@btc-etl/resilience';
import type { ExtractorConfig } from '../extractor.config';
import type { ExtractorMetrics } from '../ops/extractor.metrics';
import type { Logger } from '../ops/logger';
import { createFirehosePutter } from './firehose.client';
import { FirehoseSink, type FirehosePutter } from './firehose.sink';
import { LocalDeliverySink } from './local-delivery.sink';
import type { DeliveredCallback, TickSink } from './tick-sink.port';

/** Where records go, with the client it takes: one variant per sink, so a sink without its client cannot be built. */
export type SinkTarget = { kind: 'firehose'; client: FirehosePutter } | { kind: 'local'; store: ObjectStore };

/** Builds the sink once the pipeline hands it the callback for delivered entries. */
export type SinkFactory = (onDelivered: DeliveredCallback) => TickSink;

/** The settings a sink reads. */
export type SinkSettings = Pick<
  ExtractorConfig,
  'RAW_BUCKET' | 'FIREHOSE_STREAM_NAME' | 'FIREHOSE_MAX_LATENCY_MS' | 'BUFFER_INTERVAL_S' | 'BUFFER_SIZE_MB'
>;

export interface SinkContext {
  logger: Logger;
  metrics?: ExtractorMetrics;
  clock?: Clock;
}

/**
 * The configured target with its real client: `SINK=firehose` a Firehose client from the SDK's own chain
 * (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...), `SINK=local` the local object store rooted at `DATA_DIR`.
 */
export function sinkTargetFor(config: Pick<ExtractorConfig, 'SINK' | 'DATA_DIR'>): SinkTarget {
  return config.SINK === 'firehose'
    ? { kind: 'firehose', client: createFirehosePutter() }
    : { kind: 'local', store: createObjectStore({ kind: 'local', root: config.DATA_DIR }) };
}

/**
 * The one place a sink is built, for the service and the candle backfill alike, so backfilled records take the same
 * path as polled ones.
 *
 * @example
 * const sink = createSinkFactory(config, sinkTargetFor(config), { logger, metrics });
 * new DeliveryPipeline({ spool, createSink: sink, logger, metrics });
 */
export function createSinkFactory(settings: SinkSettings, target: SinkTarget, context: SinkContext): SinkFactory {
  const { logger, metrics, clock } = context;
  const common = { logger, ...(metrics ? { metrics } : {}), ...(clock ? { clock } : {}) };
  return (onDelivered) =>
    target.kind === 'firehose'
      ? new FirehoseSink({
          client: target.client,
          streamName: settings.FIREHOSE_STREAM_NAME,
          maxLatencyMs: settings.FIREHOSE_MAX_LATENCY_MS,
          onDelivered,
          ...common,
        })
      : new LocalDeliverySink({
          store: target.store,
          bucket: settings.RAW_BUCKET,
          streamName: settings.FIREHOSE_STREAM_NAME,
          bufferIntervalS: settings.BUFFER_INTERVAL_S,
          bufferSizeMb: settings.BUFFER_SIZE_MB,
          onDelivered,
          ...common,
        });
}
