import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { WS_GAP_DETECTION_MODES } from '@btc-etl/coinbase';
import { ProductId } from '@btc-etl/price-schema';
import { ConfigError } from './extractor.errors';

/** Coinbase's public limits per source: Exchange 10 req/s per IP with bursts to 15; spot 10,000 req/h. */
export const SOURCE_LIMITS = {
  'exchange-ticker': { ratePerSecond: 10, burst: 15 },
  spot: { ratePerSecond: 10_000 / 3600, burst: 5 },
  // the WebSocket feed is not polled; this is the Exchange REST budget of its outage backfill
  'ws-ticker': { ratePerSecond: 10, burst: 15 },
} as const;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.url({ protocol: /^https?$/ });

/**
 * Every setting, its env variable and its default. CLI flags have the same names in kebab case
 * (`PRODUCTS` -> `--products`) and win over the environment.
 */
const FIELDS = {
  PRODUCTS: z
    .string()
    .default('BTC-USD')
    .transform((s) =>
      s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(ProductId)
        .min(1, 'at least one product')
        .refine((a) => new Set(a).size === a.length, 'a product is listed twice'),
    ),
  SOURCE: z.enum(['exchange-ticker', 'spot', 'ws-ticker']).default('exchange-ticker'),
  COINBASE_WS_URL: z.url({ protocol: /^wss?$/ }).default('wss://ws-feed.exchange.coinbase.com'),
  // `--also-sample 1s` (SOURCE=ws-ticker): a per-second sample of the stream, in ms once parsed
  ALSO_SAMPLE: z
    .string()
    .regex(/^[1-9]\d*(ms|s)$/, 'expected a period such as "1s" or "500ms"')
    .transform((v) => (v.endsWith('ms') ? Number(v.slice(0, -2)) : Number(v.slice(0, -1)) * 1000))
    .pipe(z.number().min(100, 'at least 100ms').max(3_600_000))
    .optional(),
  // How SOURCE=ws-ticker finds lost messages, both right on the live feed: `matches` subscribes to the matches channel
  // and records holes in its contiguous trade ids; `none` records outages only. The former `sequence` and `trade-id`
  // modes read the feed's normal numbering (order-book traffic, batched cascades) as losses: refused with why.
  WS_GAP_DETECTION: z
    .enum(WS_GAP_DETECTION_MODES, {
      error: (issue) =>
        issue.input === 'sequence' || issue.input === 'trade-id'
          ? `removed: ticker sequence numbers and trade ids ` +
            `jump on the live feed without any loss; use ${WS_GAP_DETECTION_MODES.join(' or ')}`
          : `expected one of ${WS_GAP_DETECTION_MODES.join(', ')}`,
    })
    .default('matches'),
  INTERVAL_MS: int(100, 3_600_000).default(1000),
  SINK: z.enum(['local', 'firehose']).default('local'),
  DATA_DIR: z.string().min(1).default('./data'),
  // local defaults only (SINK=local): against AWS the names are required, never guessed (see parseConfig)
  RAW_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'not a valid S3 bucket name')
    .optional(),
  FIREHOSE_STREAM_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'not a delivery stream name (1-64 of a-z A-Z 0-9 _ . -)')
    .optional(),
  COINBASE_EXCHANGE_URL: url.default('https://api.exchange.coinbase.com'),
  COINBASE_API_URL: url.default('https://api.coinbase.com'),
  BUFFER_INTERVAL_S: int(0, 900).default(60),
  BUFFER_SIZE_MB: int(1, 128).default(5),
  SPOOL_DIR: z.string().min(1).optional(),
  SPOOL_MAX_MB: int(1, 1_000_000).default(1024),
  // single writer: how long a second extractor waits for the spool's live holder (0: refuse at once), and after how
  // long without a heartbeat a holder is taken to be dead
  SPOOL_LOCK_WAIT_S: int(0, 3600).default(0),
  SPOOL_LOCK_STALE_S: int(5, 600).default(30),
  METRICS_PORT: int(0, 65_535).default(9464),
  // health as CloudWatch Embedded Metric Format lines on stdout (the container sets true), one every interval
  METRICS_EMF: z
    .enum(['true', 'false'], 'expected true or false')
    .default('false')
    .transform((v) => v === 'true'),
  METRICS_EMF_INTERVAL_S: int(1, 3600).default(60),
  // the ops server's address: loopback unless told otherwise (the container sets 0.0.0.0 for ECS health checks)
  HOST: z
    .union([z.ipv4(), z.ipv6(), z.literal('localhost')], 'expected an IP address such as 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  REQUEST_TIMEOUT_MS: int(50, 60_000).default(2500),
  MAX_IN_FLIGHT: int(1, 16).default(3),
  FIREHOSE_MAX_LATENCY_MS: int(0, 900_000).default(1000),
  RATE_LIMIT_RPS: z.coerce.number().positive().max(10_000).optional(),
  RATE_LIMIT_BURST: int(1, 10_000).optional(),
  // the drain deadline on SIGTERM: under the orchestrator's stop timeout (ECS: up to 120 s, the stack sets 90 s)
  SHUTDOWN_TIMEOUT_MS: int(1000, 115_000).default(8000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
} as const;

type FieldName = keyof typeof FIELDS;
const NAMES = Object.keys(FIELDS) as FieldName[];
const flagOf = (name: string) => name.toLowerCase().replace(/_/g, '-');

const Schema = z.object(FIELDS);
type Parsed = z.infer<typeof Schema>;

/** Local stand-ins' names (`SINK=local` only). */
export const LOCAL_DEFAULTS = { RAW_BUCKET: 'btc-etl-raw', FIREHOSE_STREAM_NAME: 'btc-etl-ticks' } as const;

export interface ExtractorConfig
  extends Omit<
    Parsed,
    'SPOOL_DIR' | 'RATE_LIMIT_RPS' | 'RATE_LIMIT_BURST' | 'DATA_DIR' | 'RAW_BUCKET' | 'FIREHOSE_STREAM_NAME'
  > {
  /** The local stand-in's bucket (`SINK=local`); with `SINK=firehose` the stream decides where records land. */
  RAW_BUCKET: string;
  /** Required with `SINK=firehose`; `btc-etl-ticks` locally (it names the local objects, as Firehose does). */
  FIREHOSE_STREAM_NAME: string;
  /** Absolute. */
  DATA_DIR: string;
  /** Absolute; default `<DATA_DIR>/.spool/extractor` (a dot folder can never be a bucket). */
  SPOOL_DIR: string;
  RATE_LIMIT_RPS: number;
  RATE_LIMIT_BURST: number;
}

/** `--help` text: every variable with its flag. */
export function usage(): string {
  return [
    'usage: node dist/apps/extractor/main.js [--flag value]...',
    'Every setting is an env variable or the matching flag (flags win):',
    ...NAMES.map((n) => `  ${n.padEnd(24)} --${flagOf(n)}`),
  ].join('\n');
}

/**
 * Read and validate the configuration once, at start. Throws ConfigError naming the variable (and showing the
 * value) for the first bad value, an unknown flag, or a product count and rate that Coinbase's limit cannot serve.
 * @example parseConfig(process.argv.slice(2), process.env)
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): ExtractorConfig {
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({
      args: [...argv],
      options: Object.fromEntries(NAMES.map((n) => [flagOf(n), { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (cause) {
    throw new ConfigError('argv', argv.join(' '), `${(cause as Error).message}\n${usage()}`);
  }
  const raw: Record<string, string | undefined> = {};
  for (const name of NAMES) {
    const fromFlag = flags[flagOf(name)];
    const value = typeof fromFlag === 'string' ? fromFlag : env[name];
    // an empty env variable means "not set", as in most shells' `VAR= cmd`
    raw[name] = value === '' ? undefined : value;
  }
  const result = Schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const name = String(issue.path[0] ?? 'config');
    throw new ConfigError(name, raw[name], `${issue.message} (flag --${flagOf(name)})`);
  }
  const c = result.data;
  const limits = SOURCE_LIMITS[c.SOURCE];
  const rps = c.RATE_LIMIT_RPS ?? limits.ratePerSecond;
  const burst = c.RATE_LIMIT_BURST ?? limits.burst;
  if (c.ALSO_SAMPLE !== undefined && c.SOURCE !== 'ws-ticker') {
    throw new ConfigError(
      'ALSO_SAMPLE',
      `${c.ALSO_SAMPLE}ms`,
      `samples the WebSocket stream: only with SOURCE=ws-ticker (SOURCE is ${c.SOURCE})`,
    );
  }
  // a stream makes no requests per tick: the polling budget checks do not apply to it
  const needed = c.SOURCE === 'ws-ticker' ? 0 : (c.PRODUCTS.length * 1000) / c.INTERVAL_MS;
  if (needed > rps + 1e-9) {
    throw new ConfigError(
      'PRODUCTS,INTERVAL_MS',
      `${c.PRODUCTS.length} products every ${c.INTERVAL_MS} ms`,
      `needs ${round(needed)} requests/s but the ${c.SOURCE} source may make ${round(rps)}/s (Coinbase's public limit` +
        `${c.RATE_LIMIT_RPS ? ', lowered by RATE_LIMIT_RPS' : ''}); every tick past it would be recorded as missed ` +
        `(rate_limited). Poll fewer products or raise INTERVAL_MS to at ` +
        `least ${Math.ceil((c.PRODUCTS.length * 1000) / rps)}`,
    );
  }
  if (c.SOURCE !== 'ws-ticker' && c.PRODUCTS.length > burst) {
    throw new ConfigError(
      'PRODUCTS',
      c.PRODUCTS.join(','),
      `${c.PRODUCTS.length} products are polled at the same instant ` +
        `but the ${c.SOURCE} source allows bursts of ${burst} requests`,
    );
  }
  if (c.SINK === 'firehose' && c.FIREHOSE_STREAM_NAME === undefined) {
    // no default that could name someone else's stream: the stack's output (or the e2e harness) says which
    throw new ConfigError('FIREHOSE_STREAM_NAME', undefined, 'required with SINK=firehose (no default against AWS)');
  }
  const dataDir = resolve(cwd, c.DATA_DIR);
  return {
    ...c,
    RAW_BUCKET: c.RAW_BUCKET ?? LOCAL_DEFAULTS.RAW_BUCKET,
    FIREHOSE_STREAM_NAME: c.FIREHOSE_STREAM_NAME ?? LOCAL_DEFAULTS.FIREHOSE_STREAM_NAME,
    DATA_DIR: dataDir,
    SPOOL_DIR: resolve(cwd, c.SPOOL_DIR ?? resolve(dataDir, '.spool', 'extractor')),
    RATE_LIMIT_RPS: rps,
    RATE_LIMIT_BURST: burst,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
