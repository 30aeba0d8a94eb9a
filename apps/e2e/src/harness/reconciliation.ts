import type { MissReason, PriceTick } from '@btc-etl/price-schema';

/** One life of the extractor process: spawned at `startMs`, SIGTERM'd or SIGKILL'd at `endMs`. */
export interface ExtractorRun {
  startMs: number;
  endMs: number;
  ending: 'sigterm' | 'sigkill';
  /** The last `/metrics` scrape before the end: due ticks per product as the extractor counted them. */
  lastScrape?: { at: number; dueByProduct: Record<string, number> };
}

/** A request the fake Coinbase logged (the subset of `FakeRequest` the reconciliation needs). */
export interface LoggedRequest {
  productId: string;
  receivedAt: number;
  answeredAt: number | null;
  /** The fault it was answered with, or null for a normal answer. */
  fault: string | null;
  /** HTTP status of an injected HTML page / status fault (else null). */
  faultStatus: number | null;
  delayMs: number;
  /** The price the fake served (normal answers), as sent. */
  price: string | null;
}

export interface GapRowLike {
  start: string;
  end: string;
  seconds: number;
  reason: string;
}

export interface CandleLike {
  bucket_start: string;
  ticks: number;
  high: string;
  low: string;
}

/** What `query gaps` and `query ohlc` (json) answered for one product over one store. */
export interface QueryAnswers {
  gaps: GapRowLike[];
  ohlc: CandleLike[];
}

export interface ReconcileInput {
  products: readonly string[];
  intervalMs: number;
  runs: readonly ExtractorRun[];
  raw: { records: readonly PriceTick[]; objects: readonly { key: string; etag: string; size: number }[] };
  backup: { records: readonly PriceTick[]; objects: readonly { key: string; etag: string; size: number }[] };
  /** [from, to) in epoch seconds that the queries were asked for. */
  queryRange: { from: number; to: number };
  /**
   * The silver layer the compactor wrote: every record of every manifest-named file, with the partition it sits in
   * (product, event hour start in epoch seconds). Undefined: the scenario did not compact.
   */
  silver?: { records: readonly PriceTick[]; partitions: readonly SilverPartitionOf[] };
  /** Per product: answers over the raw bucket, the backup bucket, and (`--layer silver`) the silver layer. */
  query: Record<string, { raw: QueryAnswers; backup: QueryAnswers; silver?: QueryAnswers }>;
  requests: readonly LoggedRequest[];
  /** REQUEST_TIMEOUT_MS of the extractor (requests delayed about this long may end either way). */
  requestTimeoutMs: number;
  /** How late after spawn the first due tick may be (process start-up, warm-up request). */
  bootSlackMs?: number;
}

/** The partition a silver record was read from (same index as `silver.records`). */
export interface SilverPartitionOf {
  productId: string;
  hourSec: number;
}

export interface ProductCounts {
  product: string;
  due: number;
  rawLines: number;
  rawDistinct: number;
  ok: number;
  missed: Partial<Record<MissReason, number>>;
  backupLines: number;
  backupDistinct: number;
  queryOkRaw: number;
  queryMissedRaw: number;
  queryOkBackup: number;
  queryMissedBackup: number;
  /** Records in silver (each once) and what the query answered over silver alone; null when not compacted. */
  silverDistinct: number | null;
  queryOkSilver: number | null;
  queryMissedSilver: number | null;
  /** Seconds `query gaps` reports with no record at all, inside the due windows (must be 0). */
  queryNoRecordInDue: number;
  metricsDue: number | null;
  requests: number;
}

export interface ReconcileReport {
  perProduct: ProductCounts[];
  rawObjects: number;
  backupObjects: number;
  silverRecords: number | null;
  /** Lines in raw minus distinct record ids (at-least-once duplicates). */
  rawDuplicates: number;
  violations: string[];
}

/** The miss reason a request's fault must produce (null: an ok record; undefined: either outcome is fine). */
export function expectedOutcome(r: LoggedRequest, requestTimeoutMs: number): MissReason | 'ok' | undefined {
  // within this margin of the timeout, timer and network jitter decide: not asserted either way
  const margin = 400;
  if (r.fault === 'hang') return 'timeout';
  if (r.delayMs > requestTimeoutMs + margin) return 'timeout';
  if (r.delayMs > requestTimeoutMs - margin) return undefined;
  switch (r.fault) {
    case null:
      return 'ok';
    case 'rate-limit':
      return 'http_429';
    case 'server-error':
      return 'http_5xx';
    case 'html':
      return r.faultStatus !== null && r.faultStatus >= 500
        ? 'http_5xx'
        : r.faultStatus === 200
          ? 'parse_error'
          : 'http_4xx';
    case 'status':
      return r.faultStatus === 429 ? 'http_429' : (r.faultStatus ?? 0) >= 500 ? 'http_5xx' : 'http_4xx';
    case 'truncated-json':
    case 'missing-field':
    case 'price':
      return 'parse_error';
    case 'reset':
      return 'network';
    default:
      return undefined;
  }
}

const second = (iso: string | null) => (iso === null ? Number.NaN : Math.floor(Date.parse(iso) / 1000));
const isoOf = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

/** Per second of [from, to): 'ok', a miss reason, or 'no_record', from distinct records of one product. */
export function secondStates(records: Iterable<PriceTick>, product: string, from: number, to: number): string[] {
  const states: string[] = new Array<string>(to - from).fill('no_record');
  for (const r of records) {
    if (r.product_id !== product || r.scheduled_time === null) continue;
    const s = second(r.scheduled_time);
    if (s < from || s >= to) continue;
    const i = s - from;
    if (r.status === 'ok') states[i] = 'ok';
    else if (states[i] !== 'ok' && (states[i] === 'no_record' || (r.reason ?? '') < (states[i] ?? '')))
      states[i] = r.reason ?? 'unknown';
  }
  return states;
}

/** The gap rows `query gaps` must answer, derived independently from the records. */
export function expectedGaps(records: Iterable<PriceTick>, product: string, from: number, to: number): GapRowLike[] {
  const states = secondStates(records, product, from, to);
  const rows: GapRowLike[] = [];
  let i = 0;
  while (i < states.length) {
    const s = states[i];
    if (s === 'ok') {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < states.length && states[j] === s) j++;
    rows.push({ start: isoOf(from + i), end: isoOf(from + j), seconds: j - i, reason: s ?? 'no_record' });
    i = j;
  }
  return rows;
}

/** Minute candles' count, high and low from ok records (bucketed by exchange_time, else scheduled_time). */
export function expectedCandles(
  records: Iterable<PriceTick>,
  product: string,
): Map<number, { count: number; high: number; low: number }> {
  const out = new Map<number, { count: number; high: number; low: number }>();
  for (const r of records) {
    if (r.product_id !== product || r.status !== 'ok' || r.price === null) continue;
    const t = second(r.exchange_time ?? r.scheduled_time);
    const minute = t - (t % 60);
    const p = Number(r.price);
    const c = out.get(minute) ?? { count: 0, high: -Infinity, low: Infinity };
    out.set(minute, { count: c.count + 1, high: Math.max(c.high, p), low: Math.min(c.low, p) });
  }
  return out;
}

const distinct = (records: readonly PriceTick[]) => {
  const byId = new Map<string, PriceTick>();
  for (const r of records) if (!byId.has(r.record_id)) byId.set(r.record_id, r);
  return byId;
};

const normIso = (iso: string) => isoOf(Math.floor(Date.parse(iso) / 1000));

/** Records a violation (the list is capped, so a broken run still prints). */
type Violation = (message: string) => void;

type Listing = ReconcileInput['raw']['objects'];

/** Raw and backup hold the same objects, byte for byte (same key, same ETag), and so the same records. */
function checkBackupMirrorsRaw(
  objects: { raw: Listing; backup: Listing },
  raw: ReadonlyMap<string, PriceTick>,
  backup: ReadonlyMap<string, PriceTick>,
  v: Violation,
): void {
  const rawKeys = new Map(objects.raw.map((o) => [o.key, o.etag]));
  const backupKeys = new Map(objects.backup.map((o) => [o.key, o.etag]));
  for (const [key, etag] of rawKeys) {
    if (!backupKeys.has(key)) v(`raw object ${key} is not in backup`);
    else if (backupKeys.get(key) !== etag) v(`backup object ${key} has ETag ${backupKeys.get(key)}, raw has ${etag}`);
  }
  for (const key of backupKeys.keys()) if (!rawKeys.has(key)) v(`backup object ${key} has no raw object`);
  for (const id of raw.keys()) if (!backup.has(id)) v(`record ${id} is in raw but not in backup`);
  for (const id of backup.keys()) if (!raw.has(id)) v(`record ${id} is in backup but not in raw`);
}

/** A duplicate line must be the same record (at-least-once resends keep record_id and content). */
function checkDuplicatesIdentical(
  lines: readonly PriceTick[],
  raw: ReadonlyMap<string, PriceTick>,
  v: Violation,
): void {
  for (const r of lines) {
    const first = raw.get(r.record_id);
    if (first && (first.status !== r.status || first.price !== r.price || first.scheduled_time !== r.scheduled_time)) {
      v(`record ${r.record_id} appears twice with different content`);
    }
  }
}

/** One product's distinct records by due second; more than one record for a due second is a violation. */
function recordsBySecond(product: string, mine: readonly PriceTick[], v: Violation): Map<number, PriceTick[]> {
  const bySecond = new Map<number, PriceTick[]>();
  for (const r of mine) {
    const s = second(r.scheduled_time);
    bySecond.set(s, [...(bySecond.get(s) ?? []), r]);
  }
  for (const [s, list] of bySecond)
    if (list.length > 1) v(`${product} ${isoOf(s)}: ${list.length} distinct records for one due tick`);
  return bySecond;
}

interface DueTicks {
  due: number;
  dueSeconds: Set<number>;
  /** Due ticks the extractor's last scrapes counted, summed over runs (null: never scraped). */
  metricsDue: number | null;
}

/**
 * Due ticks: every interval of every run of the extractor, from its first to its last due tick, each one with a
 * record in raw; each run starting and ending on time, and agreeing with the extractor's own due counter.
 */
function dueTicks(
  input: ReconcileInput,
  product: string,
  bySecond: ReadonlyMap<number, PriceTick[]>,
  v: Violation,
): DueTicks {
  const step = input.intervalMs / 1000;
  const bootSlack = input.bootSlackMs ?? 5000;
  let due = 0;
  let metricsDue: number | null = null;
  const dueSeconds = new Set<number>();
  for (const [n, run] of input.runs.entries()) {
    const inRun = [...bySecond.keys()]
      .filter((s) => s * 1000 >= run.startMs && s * 1000 <= run.endMs)
      .sort((a, b) => a - b);
    const first = inRun[0];
    const last = inRun.at(-1);
    if (first === undefined || last === undefined) {
      v(`${product} run ${n + 1}: no record at all`);
      continue;
    }
    if (first * 1000 > run.startMs + bootSlack)
      v(`${product} run ${n + 1}: first due tick ${isoOf(first)} is ${first * 1000 - run.startMs} ms after the start`);
    // SIGTERM: every tick due before the signal is recorded; SIGKILL: ticks still in flight die with the process
    const tailSlack = run.ending === 'sigterm' ? 2 * input.intervalMs : input.requestTimeoutMs + 2 * input.intervalMs;
    if (last * 1000 < run.endMs - tailSlack)
      v(
        `${product} run ${n + 1}: last due tick ${isoOf(last)} ` +
          `is ${run.endMs - last * 1000} ms before the ${run.ending}`,
      );
    for (let s = first; s <= last; s += step) {
      dueSeconds.add(s);
      due++;
      if (!bySecond.has(s)) v(`${product} ${isoOf(s)}: a due tick has no record in raw`);
    }
    const scraped = run.lastScrape?.dueByProduct[product];
    if (run.lastScrape && scraped !== undefined) {
      metricsDue = (metricsDue ?? 0) + scraped;
      const runDue = (last - first) / step + 1;
      const after = Math.ceil((run.endMs - run.lastScrape.at) / input.intervalMs) + 1;
      if (scraped > runDue)
        v(
          `${product} run ${n + 1}: the extractor counted ${scraped} due ticks ` +
            `by ${isoOf(Math.floor(run.lastScrape.at / 1000))}, raw holds ${runDue}`,
        );
      if (run.ending === 'sigterm' && runDue > scraped + after)
        v(
          `${product} run ${n + 1}: raw holds ${runDue} due ticks, the extractor counted ${scraped} plus at ` +
            `most ${after} after its last scrape`,
        );
    }
  }
  for (const s of bySecond.keys())
    if (!dueSeconds.has(s)) v(`${product} ${isoOf(s)}: a record for a second that was never due (outside every run)`);
  return { due, dueSeconds, metricsDue };
}

/** Ok records and misses by reason; a miss without a reason is a violation. */
function countOutcomes(
  product: string,
  mine: readonly PriceTick[],
  v: Violation,
): { ok: number; missed: Partial<Record<MissReason, number>> } {
  const missed: Partial<Record<MissReason, number>> = {};
  let ok = 0;
  for (const r of mine) {
    if (r.status === 'ok') ok++;
    else if (r.reason === null) v(`${product} ${r.scheduled_time}: missed without a reason`);
    else missed[r.reason] = (missed[r.reason] ?? 0) + 1;
  }
  return { ok, missed };
}

/**
 * Every request the fake answered becomes the record its answer implies (the price it served, the miss its fault
 * causes); every record that needs a request (ok, or a fault-caused miss) has one in its second.
 */
function checkRequestsAgainstRecords(
  input: ReconcileInput,
  product: string,
  mine: readonly PriceTick[],
  bySecond: ReadonlyMap<number, PriceTick[]>,
  v: Violation,
): number {
  const step = input.intervalMs / 1000;
  const requests = input.requests.filter((r) => r.productId === product);
  const lastEnd = Math.max(...input.runs.map((r) => r.endMs));
  const kills = input.runs.filter((r) => r.ending === 'sigkill').map((r) => r.endMs);
  for (const req of requests) {
    // a request whose answer came within a moment of a kill may have died with the process
    if (
      kills.some((k) => req.receivedAt <= k && (req.answeredAt ?? req.receivedAt + input.requestTimeoutMs) >= k - 200)
    )
      continue;
    if (req.receivedAt > lastEnd) continue;
    const s = Math.floor(req.receivedAt / input.intervalMs) * step;
    const record = bySecond.get(s)?.[0];
    const expected = expectedOutcome(req, input.requestTimeoutMs);
    if (!record) {
      v(`${product} ${isoOf(s)}: the fake answered a request (${req.fault ?? 'normal'}) but raw has no record`);
      continue;
    }
    if (expected === undefined) continue;
    const got = record.status === 'ok' ? 'ok' : record.reason;
    if (got !== expected)
      v(
        `${product} ${isoOf(s)}: request answered with ${req.fault ?? 'a normal answer'} ` +
          `(delay ${Math.round(req.delayMs)} ms) should give ${expected}, raw holds ${got}`,
      );
    else if (expected === 'ok' && req.price !== null && record.price !== req.price)
      v(`${product} ${isoOf(s)}: price ${record.price} in raw, the fake served ${req.price}`);
  }
  const requested = new Set(requests.map((r) => Math.floor(r.receivedAt / input.intervalMs) * step));
  for (const r of mine) {
    const s = second(r.scheduled_time);
    const needsRequest =
      r.status === 'ok' || ['http_429', 'http_5xx', 'http_4xx', 'parse_error', 'network'].includes(r.reason ?? '');
    if (needsRequest && !requested.has(s))
      v(
        `${product} ${r.scheduled_time}: ${r.status === 'ok' ? 'ok' : r.reason} ` +
          `record without a request to the fake in that second`,
      );
  }
  return requests.length;
}

const eventSecond = (r: PriceTick) => second(r.exchange_time ?? r.scheduled_time);

/**
 * Silver holds every distinct raw record exactly once, unchanged (every field, strings character for character),
 * each in the partition of its product and UTC event hour (`exchange_time`, else `scheduled_time`).
 */
function checkSilver(
  silver: NonNullable<ReconcileInput['silver']>,
  raw: ReadonlyMap<string, PriceTick>,
  v: Violation,
): void {
  const seen = new Set<string>();
  silver.records.forEach((r, i) => {
    if (seen.has(r.record_id)) v(`record ${r.record_id} is in silver more than once`);
    seen.add(r.record_id);
    const original = raw.get(r.record_id);
    if (!original) v(`record ${r.record_id} is in silver but not in raw`);
    else if (JSON.stringify(r) !== JSON.stringify(original))
      v(`record ${r.record_id} differs in silver: ${JSON.stringify(r)} vs raw ${JSON.stringify(original)}`);
    const partition = silver.partitions[i];
    const hour = eventSecond(r) - (eventSecond(r) % 3600);
    if (partition && (partition.productId !== r.product_id || partition.hourSec !== hour))
      v(
        `record ${r.record_id} (${r.product_id}, event ${isoOf(eventSecond(r))}) is in ` +
          `partition ${partition.productId} ${isoOf(partition.hourSec)}`,
      );
  });
  for (const id of raw.keys()) if (!seen.has(id)) v(`record ${id} is in raw but not in silver`);
}

/** What one store's query answers counted: ok ticks, missed seconds, and no-record seconds inside due windows. */
interface AnswerCounts {
  ok: number;
  missed: number;
  noRecordInDue: number;
}

/** One store's `query gaps` and `query ohlc` answers agree with the gaps and candles derived from the records. */
function checkQueryAnswers(
  product: string,
  store: string,
  answers: QueryAnswers,
  expected: { gaps: GapRowLike[]; candles: ReturnType<typeof expectedCandles>; ok: number },
  dueSeconds: ReadonlySet<number>,
  v: Violation,
): AnswerCounts {
  const gotGaps = answers.gaps.map((g) => ({
    start: normIso(g.start),
    end: normIso(g.end),
    seconds: Number(g.seconds),
    reason: g.reason,
  }));
  if (JSON.stringify(gotGaps) !== JSON.stringify(expected.gaps)) {
    v(
      `${product}: query gaps over ${store} = ${JSON.stringify(gotGaps).slice(0, 600)}, the records ` +
        `give ${JSON.stringify(expected.gaps).slice(0, 600)}`,
    );
  }
  const missed = gotGaps.filter((g) => g.reason !== 'no_record').reduce((n, g) => n + g.seconds, 0);
  let noRecordInDue = 0;
  for (const g of gotGaps) {
    if (g.reason !== 'no_record') continue;
    for (let s = second(g.start); s < second(g.end); s++) if (dueSeconds.has(s)) noRecordInDue++;
  }
  const ok = answers.ohlc.reduce((n, c) => n + Number(c.ticks), 0);
  if (ok !== expected.ok) v(`${product}: query ohlc over ${store} counts ${ok} ok ticks, raw holds ${expected.ok}`);
  for (const c of answers.ohlc) {
    const want = expected.candles.get(second(c.bucket_start));
    if (!want) v(`${product}: query ohlc over ${store} has a candle at ${c.bucket_start} the records do not`);
    else if (want.count !== Number(c.ticks) || want.high !== Number(c.high) || want.low !== Number(c.low)) {
      v(
        `${product}: candle ${c.bucket_start} over ${store}: ${c.ticks} ticks ${c.low}-${c.high}, records ` +
          `give ${want.count} ticks ${want.low}-${want.high}`,
      );
    }
  }
  if (answers.ohlc.length !== expected.candles.size)
    v(`${product}: query ohlc over ${store} has ${answers.ohlc.length} candles, the records ${expected.candles.size}`);
  return { ok, missed, noRecordInDue };
}

/**
 * The assertion of the whole pipeline: due ticks = distinct records in raw = records in backup = records in silver
 * (each once, unchanged, in its event-hour partition) = what `query gaps` and `query ohlc` report over each, every miss
 * carrying a reason, every fault the fake injected turned into the record it implies. Returns the counts per stage and
 * every violation found (empty = the pipeline lost, invented and corrupted nothing).
 */
export function reconcile(input: ReconcileInput): ReconcileReport {
  const violations: string[] = [];
  const v: Violation = (msg) => {
    if (violations.length < 200) violations.push(msg);
  };
  const raw = distinct(input.raw.records);
  const backup = distinct(input.backup.records);
  checkBackupMirrorsRaw({ raw: input.raw.objects, backup: input.backup.objects }, raw, backup, v);
  checkDuplicatesIdentical(input.raw.records, raw, v);
  if (input.silver) checkSilver(input.silver, raw, v);

  const perProduct: ProductCounts[] = [];
  for (const product of input.products) {
    const mine = [...raw.values()].filter((r) => r.product_id === product && r.source !== 'coinbase-candles');
    const bySecond = recordsBySecond(product, mine, v);
    const { due, dueSeconds, metricsDue } = dueTicks(input, product, bySecond, v);
    const { ok, missed } = countOutcomes(product, mine, v);
    const requests = checkRequestsAgainstRecords(input, product, mine, bySecond, v);

    // The query app over raw and over backup agrees with the records.
    const { from, to } = input.queryRange;
    const expected = { gaps: expectedGaps(mine, product, from, to), candles: expectedCandles(mine, product), ok };
    const counts: Partial<Record<'raw' | 'backup' | 'silver', AnswerCounts>> = {};
    const stores = input.silver ? (['raw', 'backup', 'silver'] as const) : (['raw', 'backup'] as const);
    for (const store of stores) {
      const answers = input.query[product]?.[store];
      if (answers) counts[store] = checkQueryAnswers(product, store, answers, expected, dueSeconds, v);
      else v(`${product}: no query answers over ${store}`);
    }
    const missedTotal = Object.values(missed).reduce((n, x) => n + (x ?? 0), 0);
    if (ok + missedTotal !== due) v(`${product}: ok ${ok} + missed ${missedTotal} != due ${due}`);

    perProduct.push({
      product,
      due,
      rawLines: input.raw.records.filter((r) => r.product_id === product).length,
      rawDistinct: mine.length,
      ok,
      missed,
      backupLines: input.backup.records.filter((r) => r.product_id === product).length,
      backupDistinct: [...backup.values()].filter((r) => r.product_id === product).length,
      queryOkRaw: counts.raw?.ok ?? 0,
      queryMissedRaw: counts.raw?.missed ?? 0,
      queryOkBackup: counts.backup?.ok ?? 0,
      queryMissedBackup: counts.backup?.missed ?? 0,
      queryNoRecordInDue: counts.raw?.noRecordInDue ?? 0,
      silverDistinct: input.silver ? input.silver.records.filter((r) => r.product_id === product).length : null,
      queryOkSilver: counts.silver?.ok ?? null,
      queryMissedSilver: counts.silver?.missed ?? null,
      metricsDue,
      requests,
    });
  }
  return {
    perProduct,
    rawObjects: input.raw.objects.length,
    backupObjects: input.backup.objects.length,
    silverRecords: input.silver ? input.silver.records.length : null,
    rawDuplicates: input.raw.records.length - raw.size,
    violations,
  };
}

/** The counts at each stage as a table for the test log. */
export function formatReport(name: string, report: ReconcileReport, extra: Record<string, unknown> = {}): string {
  const head = [
    'product',
    'due',
    'metrics due',
    'fake requests',
    'raw lines',
    'raw distinct',
    'ok',
    'missed (reasons)',
    'backup distinct',
    'silver',
    'query ok raw/backup/silver',
    'query missed raw/backup/silver',
  ];
  const rows = report.perProduct.map((p) => [
    p.product,
    String(p.due),
    p.metricsDue === null ? '-' : String(p.metricsDue),
    String(p.requests),
    String(p.rawLines),
    String(p.rawDistinct),
    String(p.ok),
    `${Object.values(p.missed).reduce((n, x) => n + (x ?? 0), 0)} ${JSON.stringify(p.missed)}`,
    String(p.backupDistinct),
    p.silverDistinct === null ? '-' : String(p.silverDistinct),
    `${p.queryOkRaw}/${p.queryOkBackup}/${p.queryOkSilver ?? '-'}`,
    `${p.queryMissedRaw}/${p.queryMissedBackup}/${p.queryMissedSilver ?? '-'}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [
    `== e2e scenario: ${name}`,
    line(head),
    ...rows.map(line),
    `objects raw ${report.rawObjects}, backup ${report.backupObjects}; silver ` +
      `records ${report.silverRecords ?? '-'}; raw duplicate lines ${report.rawDuplicates}; ${Object.entries(extra)
        .map(([k, x]) => `${k} ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
        .join('; ')}`,
    report.violations.length === 0
      ? 'reconciled: no violations'
      : `VIOLATIONS (${report.violations.length}):\n  ${report.violations.join('\n  ')}`,
  ].join('\n');
}
