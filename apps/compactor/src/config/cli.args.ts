import { parseArgs } from 'node:util';
import { CompactorConfigError } from '../compactor.errors';

export type CliCommand =
  | { command: 'run'; from?: Date; to?: Date; dryRun: boolean }
  | { command: 'serve' }
  | { command: 'help' };

export const USAGE = `usage: compactor run [--from ISO --to ISO] [--dry-run]
       compactor serve          (run every COMPACT_INTERVAL_S until SIGINT/SIGTERM)
  run        compact raw objects not yet in silver (or, with --from/--to, re-compact exactly those UTC event hours)
  --from     first event hour to re-compact (ISO-8601 UTC, on an hour boundary)
  --to       end of the range, exclusive (ISO-8601 UTC, on an hour boundary, after --from)
  --dry-run  read and report, write nothing
Configuration is by environment: see apps/compactor/README.md.`;

const HOUR_MS = 3_600_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})$/;

function hourFlag(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = ISO.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new CompactorConfigError([{ variable: flag, message: `not an ISO-8601 time: ${value}` }]);
  if (ms % HOUR_MS !== 0) {
    throw new CompactorConfigError([{ variable: flag, message: `must be on an hour boundary: ${value}` }]);
  }
  return new Date(ms);
}

/** Parse the command line (without node and the script). Throws CompactorConfigError naming the bad flag. */
export function parseCli(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new CompactorConfigError([{ variable: 'argv', message: (error as Error).message }]);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new CompactorConfigError([{ variable: 'argv', message: `unexpected ${rest.join(' ')}` }]);
  if (command === 'serve') {
    if (values.from || values.to || values['dry-run']) {
      throw new CompactorConfigError([{ variable: 'argv', message: 'serve takes no --from/--to/--dry-run' }]);
    }
    return { command: 'serve' };
  }
  if (command !== 'run') {
    throw new CompactorConfigError([
      { variable: 'argv', message: `unknown command ${JSON.stringify(command ?? '')} (run | serve)` },
    ]);
  }
  const from = hourFlag('--from', values.from);
  const to = hourFlag('--to', values.to);
  if ((from === undefined) !== (to === undefined)) {
    throw new CompactorConfigError([{ variable: from ? '--to' : '--from', message: '--from and --to go together' }]);
  }
  if (from && to && to.getTime() <= from.getTime()) {
    throw new CompactorConfigError([{ variable: '--to', message: 'must be after --from' }]);
  }
  return { command: 'run', dryRun: values['dry-run'] ?? false, ...(from && to ? { from, to } : {}) };
}
