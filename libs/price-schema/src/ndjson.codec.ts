import { NdjsonLineError } from './price-schema.errors';
import { PRICE_TICK_COLUMNS, PRICE_TICK_FIELDS, PriceTickSchema, type PriceTick } from './price-tick.schema';
import { toLineIssues } from './validate';

/**
 * One record as one NDJSON line (with its trailing `\n`), columns in schema order. Optional columns that are
 * null or absent are left out: absent and null mean the same thing in every codec.
 */
export function encodeNdjsonLine(tick: PriceTick): string {
  const out: Record<string, unknown> = {};
  for (const name of PRICE_TICK_COLUMNS) {
    const value = tick[name];
    if (value === undefined || (value === null && !PRICE_TICK_FIELDS[name].required)) continue;
    out[name] = value;
  }
  return `${JSON.stringify(out)}\n`;
}

/** Many records as newline-terminated NDJSON. */
export function encodeNdjson(ticks: Iterable<PriceTick>): string {
  let text = '';
  for (const tick of ticks) text += encodeNdjsonLine(tick);
  return text;
}

export interface DecodeOptions {
  /**
   * Called for each bad line, after which decoding goes on. Without it the first bad line throws
   * an NdjsonLineError naming its line number.
   */
  onBadLine?: (error: NdjsonLineError) => void;
  /** Validate every line against the schema (default true). Off, lines are only JSON-parsed: for trusted data. */
  validate?: boolean;
}

function decodeLine(line: string, lineNumber: number, validate: boolean): PriceTick | NdjsonLineError {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    return new NdjsonLineError(lineNumber, line, [{ path: '', message: `not JSON: ${(cause as Error).message}` }], {
      cause,
    });
  }
  if (!validate) return value as PriceTick;
  const result = PriceTickSchema.safeParse(value);
  return result.success ? result.data : new NdjsonLineError(lineNumber, line, toLineIssues(result.error));
}

function handle(result: PriceTick | NdjsonLineError, options: DecodeOptions): PriceTick | undefined {
  if (!(result instanceof NdjsonLineError)) return result;
  if (!options.onBadLine) throw result;
  options.onBadLine(result);
  return undefined;
}

/**
 * Decode NDJSON text. Blank lines (and a missing final newline) are allowed; a `\r\n` ending is tolerated.
 * @example const ticks = decodeNdjson(text, { onBadLine: (e) => bad.push(e) });
 */
export function decodeNdjson(text: string, options: DecodeOptions = {}): PriceTick[] {
  const validate = options.validate ?? true;
  const ticks: PriceTick[] = [];
  let lineNumber = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNumber++;
    let line = text.slice(start, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() !== '') {
      const tick = handle(decodeLine(line, lineNumber, validate), options);
      if (tick) ticks.push(tick);
    }
    start = end + 1;
  }
  return ticks;
}

/**
 * Streaming decoder: chunks of bytes or text in, records out, with constant memory per line. A multi-byte
 * character split across chunks is reassembled.
 */
export async function* decodeNdjsonStream(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: DecodeOptions = {},
): AsyncGenerator<PriceTick> {
  const validate = options.validate ?? true;
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending = '';
  let lineNumber = 0;
  const emit = function* (line: string): Generator<PriceTick> {
    lineNumber++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') return;
    const tick = handle(decodeLine(line, lineNumber, validate), options);
    if (tick) yield tick;
  };
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    let from = 0;
    while (newline !== -1) {
      yield* emit(pending.slice(from, newline));
      from = newline + 1;
      newline = pending.indexOf('\n', from);
    }
    pending = pending.slice(from);
  }
  pending += decoder.decode();
  if (pending !== '') yield* emit(pending);
}
