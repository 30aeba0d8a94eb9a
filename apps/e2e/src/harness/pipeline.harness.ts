import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startFakeCoinbase, type FakeCoinbase, type FaultRule, type InstalledFaultRule } from '@btc-etl/testing';
import {
  BUNDLES,
  assertBundlesBuilt,
  awsEnv,
  baseEnv,
  metricSum,
  runCli,
  scrapeMetrics,
  startApp,
  type AppProcess,
  type ExitInfo,
} from './app.processes';
import { passThrough, startFaultProxy, type FaultProxy } from './fault.proxy';
import {
  createPipelineStack,
  drainQueue,
  listObjects,
  queueDepth,
  readBucketRecords,
  readSilverRecords,
  type BucketRecords,
  type SilverRecords,
  type PipelineStack,
  type StackOptions,
} from './pipeline.stack';
import {
  formatReport,
  reconcile,
  type CandleLike,
  type ExtractorRun,
  type GapRowLike,
  type LoggedRequest,
  type ReconcileReport,
} from './reconciliation';
import { sleep } from '@btc-etl/resilience';

export const INTERVAL_MS = 1000;
export const REQUEST_TIMEOUT_MS = 2500;
export const DEFAULT_PRODUCTS = ['BTC-USD', 'ETH-USD'] as const;

/** A little latency on every answer, as the real API has: requests overlap the next tick's start now and then. */
const LATENCY_RULE: FaultRule = { id: 'latency', endpoint: 'ticker', delayMs: { min: 5, max: 60 } };

export interface HarnessOptions {
  name: string;
  motoEndpoint: string;
  products?: readonly string[];
  stack?: StackOptions;
  /** Fake Coinbase seed (prices are reproducible per scenario). */
  seed?: number;
}

export interface RunningExtractor {
  app: AppProcess;
  opsPort: number;
  run: ExtractorRun;
  /** Spool depth samples from /metrics, [time, depth]. */
  spoolDepth: [number, number][];
  /** The last /metrics scrape, whole. */
  lastMetrics: Map<string, number>;
  stopScraping(): void;
}

/** Everything a scenario collected after the pipeline settled: the input of the reconciliation. */
export interface ScenarioResult {
  report: ReconcileReport;
  raw: BucketRecords;
  backup: BucketRecords;
  silver: SilverRecords;
  /** The report of each compactor run of the scenario, in order (the last one is collect's own). */
  compactions: CompactReport[];
  dlqBodies: string[];
  text: string;
}

/** What `compactor run` printed as its report (the last line of its stdout). */
export interface CompactReport {
  objectsRead: number;
  recordsIn: number;
  duplicatesDropped: number;
  quarantinedLines: number;
  partitionsWritten: number;
  rawCompleteBefore: string | null;
  [k: string]: unknown;
}

export type QueryLayer = 'raw' | 'silver' | 'auto';

const CLOCK_SHIFT = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'clock-shift.mjs')).href;

/**
 * One scenario's pipeline on this machine: moto (reset, then the stack), a fake Coinbase, fault proxies in front of
 * moto's Firehose and S3 endpoints (pass-through until a scenario sets faults), the extractor bundle with
 * SINK=firehose, the backup Lambda's local SQS runner, and the query CLI. Scenarios compose its steps.
 */
export class PipelineHarness {
  readonly products: readonly string[];
  fake!: FakeCoinbase;
  stack!: PipelineStack;
  firehoseProxy!: FaultProxy;
  s3Proxy!: FaultProxy;
  dir!: string;
  backupRunner: AppProcess | undefined;
  readonly runs: RunningExtractor[] = [];
  readonly compactions: CompactReport[] = [];
  private readonly apps: AppProcess[] = [];

  constructor(readonly options: HarnessOptions) {
    this.products = options.products ?? DEFAULT_PRODUCTS;
  }

  async setup(): Promise<this> {
    assertBundlesBuilt();
    await fetch(`${this.options.motoEndpoint}/moto-api/reset`, { method: 'POST' });
    this.stack = await createPipelineStack(this.options.motoEndpoint, this.options.stack);
    this.fake = await startFakeCoinbase({ seed: this.options.seed ?? 7 });
    // a little latency, as the real API has: requests overlap the next tick's start now and then
    this.setCoinbaseFaults([]);
    this.firehoseProxy = await startFaultProxy(this.options.motoEndpoint, passThrough);
    this.s3Proxy = await startFaultProxy(this.options.motoEndpoint, passThrough);
    this.dir = mkdtempSync(join(tmpdir(), `e2e-${this.options.name.replace(/[^a-z0-9]+/gi, '-')}-`));
    return this;
  }

  /**
   * Fault rules for the fake Coinbase, placed before the background latency rule (the first matching rule answers).
   * Returns the installed rules, whose `hits` count the requests each one answered.
   */
  setCoinbaseFaults(rules: readonly FaultRule[]): readonly InstalledFaultRule[] {
    return this.fake.setFaults([...rules, LATENCY_RULE]);
  }

  /** The extractor's environment: the built bundle, SINK=firehose, Firehose through the fault proxy. */
  extractorEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...baseEnv(),
      ...awsEnv(this.options.motoEndpoint),
      // the SDK's service-specific endpoint variable: only Firehose goes through the proxy
      AWS_ENDPOINT_URL_FIREHOSE: this.firehoseProxy.url,
      SINK: 'firehose',
      FIREHOSE_STREAM_NAME: this.stack.streamName,
      PRODUCTS: this.products.join(','),
      INTERVAL_MS: String(INTERVAL_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      COINBASE_EXCHANGE_URL: this.fake.exchangeUrl,
      COINBASE_API_URL: this.fake.apiUrl,
      DATA_DIR: join(this.dir, 'data'),
      SPOOL_DIR: join(this.dir, 'spool'),
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  backupEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...baseEnv(),
      ...awsEnv(this.options.motoEndpoint),
      // S3 through the fault proxy, SQS straight to moto
      AWS_ENDPOINT_URL_S3: this.s3Proxy.url,
      SQS_QUEUE_URL: this.stack.queueUrl,
      RAW_BUCKET: this.stack.rawBucket,
      BACKUP_BUCKET: this.stack.backupBucket,
      S3_FORCE_PATH_STYLE: 'true',
      SQS_WAIT_TIME_SECONDS: '1',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...extra,
    };
  }

  queryEnv(bucket: string): Record<string, string> {
    return {
      ...baseEnv(),
      ...awsEnv(this.options.motoEndpoint),
      OBJECT_STORE: 's3',
      S3_FORCE_PATH_STYLE: 'true',
      RAW_BUCKET: bucket,
      BACKUP_BUCKET: this.stack.backupBucket,
      SILVER_BUCKET: this.stack.silverBucket,
      LOG_LEVEL: 'silent',
    };
  }

  compactorEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...baseEnv(),
      ...awsEnv(this.options.motoEndpoint),
      OBJECT_STORE: 's3',
      S3_FORCE_PATH_STYLE: 'true',
      RAW_BUCKET: this.stack.rawBucket,
      SILVER_BUCKET: this.stack.silverBucket,
      ...extra,
    };
  }

  /**
   * `compactor run` (the built CLI) over moto: raw -> silver. `clockShiftMs` runs it that much later by its clock
   * (see clock-shift.mjs). Returns its report; a non-zero exit throws with its output.
   */
  async compact(options: { clockShiftMs?: number } = {}): Promise<CompactReport> {
    const shift = options.clockShiftMs ?? 0;
    const env = this.compactorEnv(
      shift === 0 ? {} : { NODE_OPTIONS: `--import=${CLOCK_SHIFT}`, E2E_CLOCK_SHIFT_MS: String(shift) },
    );
    const result = await runCli(BUNDLES.compactor, ['run'], env, { timeoutMs: 120_000 });
    if (result.code !== 0) throw new Error(`compactor run exited ${result.code}: ${result.stderr}${result.stdout}`);
    const last = result.stdout.trim().split('\n').at(-1) ?? '';
    const report = (JSON.parse(last) as { report: CompactReport }).report;
    this.compactions.push(report);
    return report;
  }

  async startBackupRunner(extra: Record<string, string> = {}): Promise<AppProcess> {
    const app = startApp('backup-runner', BUNDLES.backupRunner, this.backupEnv(extra));
    this.apps.push(app);
    this.backupRunner = app;
    await app.waitForLog((l) => l.message === 'polling queue');
    return app;
  }

  async startExtractor(extra: Record<string, string> = {}): Promise<RunningExtractor> {
    const app = startApp(`extractor-${this.runs.length + 1}`, BUNDLES.extractor, this.extractorEnv(extra));
    this.apps.push(app);
    const started = await app.waitForLog((l) => l.msg === 'extractor started');
    const opsPort = Number(started.opsPort);
    const run: ExtractorRun = { startMs: app.startedAt, endMs: Number.NaN, ending: 'sigterm' };
    const spoolDepth: [number, number][] = [];
    let scraping = true;
    const scrapeLoop = async () => {
      while (scraping && app.child.exitCode === null && app.child.signalCode === null) {
        try {
          const at = Date.now();
          const m = await scrapeMetrics(opsPort);
          running.lastMetrics = m;
          spoolDepth.push([at, metricSum(m, 'extractor_spool_depth')]);
          run.lastScrape = {
            at,
            dueByProduct: Object.fromEntries(
              this.products.map((p) => [p, metricSum(m, 'extractor_ticks_due_total', { product: p })]),
            ),
          };
        } catch {
          // the process is going away
        }
        await sleep(500);
      }
    };
    const running: RunningExtractor = {
      app,
      opsPort,
      run,
      spoolDepth,
      lastMetrics: new Map(),
      stopScraping: () => {
        scraping = false;
      },
    };
    void scrapeLoop();
    this.runs.push(running);
    return running;
  }

  /** SIGTERM: the extractor stops scheduling, flushes and exits 0 (the last scrape happens just before). */
  async stopExtractor(running: RunningExtractor): Promise<ExitInfo> {
    try {
      const at = Date.now();
      const m = await scrapeMetrics(running.opsPort);
      running.lastMetrics = m;
      running.run.lastScrape = {
        at,
        dueByProduct: Object.fromEntries(
          this.products.map((p) => [p, metricSum(m, 'extractor_ticks_due_total', { product: p })]),
        ),
      };
    } catch {
      // keep the previous scrape
    }
    running.stopScraping();
    running.run.endMs = Date.now();
    running.run.ending = 'sigterm';
    return running.app.stop(15_000);
  }

  async killExtractor(running: RunningExtractor): Promise<ExitInfo> {
    running.stopScraping();
    running.run.endMs = Date.now();
    running.run.ending = 'sigkill';
    running.app.kill('SIGKILL');
    return running.app.exited;
  }

  /**
   * Wait until the pipeline has nothing in flight: no Firehose call for a while, the event queue empty, and every
   * raw object in backup. No deadline by default: the hook's or test's timeout catches a pipeline that never settles,
   * so a busy machine only makes this wait longer (a 30 s default let a slow run reconcile too early). A bench may
   * pass `timeoutMs`, after which the reconciliation shows what is missing.
   */
  async settle(timeoutMs = Number.POSITIVE_INFINITY): Promise<{ settledMs: number; settled: boolean }> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const lastCall = this.firehoseProxy.log.at(-1)?.at ?? 0;
      const depth = await queueDepth(this.stack.sqs, this.stack.queueUrl);
      if (Date.now() - lastCall > 1000 && depth === 0) {
        const raw = new Set((await listObjects(this.stack.s3, this.stack.rawBucket)).map((o) => o.key));
        const backup = new Set((await listObjects(this.stack.s3, this.stack.backupBucket)).map((o) => o.key));
        if ([...raw].every((k) => backup.has(k))) return { settledMs: Date.now() - started, settled: true };
      }
      await sleep(250);
    }
    return { settledMs: Date.now() - started, settled: false };
  }

  /** The ticker requests the fake logged, minus the extractor's warm-up request (its own User-Agent). */
  loggedRequests(): LoggedRequest[] {
    return this.fake
      .requestsTo({ endpoint: 'ticker' })
      .filter((r) => !String(r.headers['user-agent'] ?? '').includes('warm-up'))
      .map((r) => {
        const rule = this.fake.faults.find((f) => f.id === r.ruleId);
        const fault = rule?.fault;
        return {
          productId: r.productId ?? '',
          receivedAt: r.receivedAt,
          answeredAt: r.answeredAt,
          fault: r.fault,
          faultStatus:
            fault && 'status' in fault
              ? (fault.status ?? (fault.kind === 'html' ? 502 : fault.kind === 'server-error' ? 503 : null))
              : fault?.kind === 'html'
                ? 502
                : null,
          delayMs: r.delayMs,
          price: r.status === 200 && r.fault === null ? this.fake.priceAt(r.productId ?? '', r.clockAt) : null,
        };
      });
  }

  /** `query <name> --format json --layer <layer>` with a bucket of moto S3 as RAW_BUCKET. */
  async query(
    name: 'gaps' | 'ohlc',
    product: string,
    from: number,
    to: number,
    bucket: string,
    layer: QueryLayer = 'raw',
    lateSlackS?: number,
  ): Promise<unknown[]> {
    const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
    const args = [
      name,
      '--product',
      product,
      '--from',
      iso(from),
      '--to',
      iso(to),
      '--format',
      'json',
      ...(name === 'ohlc' ? ['--interval', '1m'] : []),
      '--layer',
      layer,
      ...(lateSlackS !== undefined ? ['--late-slack', String(lateSlackS)] : []),
    ];
    const result = await runCli(BUNDLES.query, args, this.queryEnv(bucket));
    if (result.code !== 0) throw new Error(`query ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as unknown[];
  }

  /**
   * Compact raw into silver (the compactor CLI), read raw, backup and silver, ask the query app over raw and backup
   * (`--layer raw`) and over silver alone (`--layer silver`), and reconcile against the fake's request log.
   * `lateSlackS` widens the raw queries' arrival slack (records that arrived hours late need it; silver does not);
   * `compactClockShiftMs` runs that compaction later by its clock (after objects re-keyed hours later).
   */
  async collect(
    extra: Record<string, unknown> = {},
    options: { lateSlackS?: number; compactClockShiftMs?: number } = {},
  ): Promise<ScenarioResult> {
    await this.compact(options.compactClockShiftMs !== undefined ? { clockShiftMs: options.compactClockShiftMs } : {});
    const raw = await readBucketRecords(this.stack.s3, this.stack.rawBucket);
    const backup = await readBucketRecords(this.stack.s3, this.stack.backupBucket);
    const silver = await readSilverRecords(this.stack.s3, this.stack.silverBucket);
    const dlqBodies = await drainQueue(this.stack.sqs, this.stack.dlqUrl);
    const runs = this.runs.map((r) => r.run);
    const from = Math.floor(Math.min(...runs.map((r) => r.startMs)) / 1000) - 2;
    const minuteFrom = from - (from % 60);
    const to = Math.ceil(Math.max(...runs.map((r) => r.endMs)) / 1000) + 3;
    const minuteTo = to - (to % 60) + 60;
    type Answers = { gaps: GapRowLike[]; ohlc: CandleLike[] };
    const query: Record<string, { raw: Answers; backup: Answers; silver: Answers }> = {};
    // two CLI processes at a time: the machine has two cores
    for (const product of this.products) {
      const ask = async (bucket: string, layer: QueryLayer, lateSlackS?: number) => {
        const [gaps, ohlc] = await Promise.all([
          this.query('gaps', product, from, to, bucket, layer, lateSlackS),
          this.query('ohlc', product, minuteFrom, minuteTo, bucket, layer, lateSlackS),
        ]);
        return { gaps: gaps as GapRowLike[], ohlc: ohlc as CandleLike[] };
      };
      query[product] = {
        raw: await ask(this.stack.rawBucket, 'raw', options.lateSlackS),
        backup: await ask(this.stack.backupBucket, 'raw', options.lateSlackS),
        silver: await ask(this.stack.rawBucket, 'silver'),
      };
    }
    const report = reconcile({
      products: this.products,
      intervalMs: INTERVAL_MS,
      runs,
      raw,
      backup,
      silver: { records: silver.records, partitions: silver.partitions },
      queryRange: { from, to },
      query,
      requests: this.loggedRequests(),
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const text = formatReport(this.options.name, report, {
      firehoseCalls: this.firehoseProxy.log.filter((e) => e.target.endsWith('PutRecordBatch')).length,
      dlq: dlqBodies.length,
      compactions: this.compactions.map((c) => `${c.objectsRead} objects/${c.recordsIn} records`).join(', '),
      ...extra,
    });
    console.log(text);
    return { report, raw, backup, silver, compactions: [...this.compactions], dlqBodies, text };
  }

  /** Stop every process this harness started (by its own handle), the fake and the proxies; remove the temp dir. */
  async teardown(): Promise<void> {
    for (const r of this.runs) r.stopScraping();
    await Promise.all(this.apps.map((a) => a.stop(5000)));
    await this.fake?.stop();
    await this.firehoseProxy?.stop();
    await this.s3Proxy?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run the extractor for `seconds`, calling `during` (a fault schedule) meanwhile; then SIGTERM it. */
export async function runFor(
  h: PipelineHarness,
  seconds: number,
  during?: (running: RunningExtractor) => Promise<void>,
  extra: Record<string, string> = {},
): Promise<{ running: RunningExtractor; exit: ExitInfo }> {
  const running = await h.startExtractor(extra);
  const until = running.app.startedAt + seconds * 1000;
  await Promise.all([during?.(running), sleep(Math.max(0, until - Date.now()))]);
  const exit = await h.stopExtractor(running);
  return { running, exit };
}
