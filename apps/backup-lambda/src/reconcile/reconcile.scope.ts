import { hourlyPrefixes, RAW_PREFIX, unsafePrefixReason } from '@btc-etl/s3-keys';
import { ReconcileScopeError } from '../core/backup.errors';

export interface ScopeFlags {
  prefix?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export interface ReconcileScope {
  /** What to list, in order. */
  prefixes: string[];
  /** For the summary line: the prefix, or `raw/<first hour>/ .. raw/<last hour>/ (N hours)`. */
  label: string;
}

/** `YYYY-MM-DD` (midnight UTC) or an ISO date-time with a zone (`Z` or `±hh:mm`). */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function parseInstant(flag: '--from' | '--to', value: string): Date {
  const bad = () =>
    new ReconcileScopeError(
      flag,
      `${flag} ${JSON.stringify(value)} is not an ISO date or date-time with a zone (e.g. 2026-11-27T19:00:00Z)`,
    );
  const match = ISO.exec(value);
  if (!match) throw bad();
  const [, y, mo, d, h = '0', mi = '0', sec = '0'] = match;
  // Date would roll 2026-02-31 over into March: the calendar day must exist as written.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) throw bad();
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) throw bad();
  const date = new Date(value.includes('T') ? value : `${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) throw bad();
  return date;
}

/**
 * Which prefixes reconcile lists: `--prefix` as given, or the Firehose hour folders `raw/YYYY/MM/dd/HH/` of the
 * half-open range [`--from`, `--to`). Keys carry Firehose's arrival time, so the range is by arrival hour.
 * Throws `ReconcileScopeError` naming the flag.
 * @example resolveScope({ from: '2026-11-27T19:30:00Z', to: '2026-11-27T21:00:00Z' }).prefixes
 *   // ['raw/2026/11/27/19/', 'raw/2026/11/27/20/']
 */
export function resolveScope(flags: ScopeFlags): ReconcileScope {
  const { prefix, from, to } = flags;
  if (from === undefined && to === undefined) {
    const p = prefix ?? '';
    const unsafe = unsafePrefixReason(p);
    if (unsafe)
      throw new ReconcileScopeError(
        '--prefix',
        `--prefix ${JSON.stringify(p)} can never name a safe object key (${unsafe})`,
      );
    return { prefixes: [p], label: p };
  }
  if (prefix !== undefined)
    throw new ReconcileScopeError(
      '--prefix',
      '--prefix and --from/--to cannot be combined: the range picks raw/ hour prefixes',
    );
  if (from === undefined) throw new ReconcileScopeError('--from', '--to needs --from');
  if (to === undefined) throw new ReconcileScopeError('--to', '--from needs --to');
  const start = parseInstant('--from', from);
  const end = parseInstant('--to', to);
  if (start.getTime() >= end.getTime())
    throw new ReconcileScopeError('--to', `--to ${to} must be after --from ${from} (the range is [from, to))`);
  let prefixes: string[];
  try {
    prefixes = hourlyPrefixes(RAW_PREFIX, start, new Date(end.getTime() - 1));
  } catch (error) {
    throw new ReconcileScopeError('--from', `--from/--to: ${(error as Error).message}`, { cause: error });
  }
  const label =
    prefixes.length === 1
      ? (prefixes[0] ?? '')
      : `${prefixes[0] ?? ''} .. ${prefixes.at(-1) ?? ''} (${prefixes.length} hours)`;
  return { prefixes, label };
}
