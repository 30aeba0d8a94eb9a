import { PriceTickSchema, silverFitIssue, toLineIssues, type PriceTick } from '@btc-etl/price-schema';

/** A raw line that cannot go to silver: where it was, what it held, why. Quarantined, counted, never dropped. */
export interface BadLine {
  line: number;
  reason: string;
  text: string;
}

export type LineResult = { tick: PriceTick } | { bad: BadLine };

/**
 * One NDJSON line to a record: JSON, then the price schema (the last word on validity), then whether silver can
 * hold it exactly (DECIMAL(38,18), TIMESTAMP(MICROS)).
 */
export function parseRawLine(text: string, line: number): LineResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return { bad: { line, text, reason: `not JSON: ${(cause as Error).message}` } };
  }
  const result = PriceTickSchema.safeParse(value);
  if (!result.success) {
    const reason = toLineIssues(result.error)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
    return { bad: { line, text, reason: `not a price record: ${reason}` } };
  }
  const misfit = silverFitIssue(result.data);
  if (misfit) return { bad: { line, text, reason: misfit.message } };
  return { tick: result.data };
}

/**
 * Lines of a byte stream with their 1-based numbers (blank lines counted, not yielded; `\r\n` tolerated; a
 * multi-byte character split across chunks is reassembled).
 */
export async function* numberedLines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<[string, number]> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let line = 0;
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let from = 0;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      line++;
      const text =
        pending.charCodeAt(newline - 1) === 13 ? pending.slice(from, newline - 1) : pending.slice(from, newline);
      if (text.trim() !== '') yield [text, line];
      from = newline + 1;
      newline = pending.indexOf('\n', from);
    }
    pending = pending.slice(from);
  }
  pending += decoder.decode();
  if (pending.trim() !== '') yield [pending.endsWith('\r') ? pending.slice(0, -1) : pending, line + 1];
}

/**
 * Lines of a byte stream as byte ranges with their 1-based numbers, for the fast path (no string per line): `onLine`
 * gets the bytes and [start, end) of each line (`\r\n` tolerated, a leading UTF-8 byte order mark dropped, as the
 * decoder of {@link numberedLines} does), empty lines included (counted by the caller's rules).
 *
 * `take`, when given, is offered each line that starts inside a chunk before its end is searched for: it returns the
 * index of the `\n` ending the line it consumed (the line is then counted and not handed to `onLine`), or -1 to
 * leave it to `onLine`. A parser that walks the line anyway finds its end on the way, and the search (a native call
 * per line, a tenth of the compactor's time) is made only for the lines it does not take.
 */
export async function forEachRawLine(
  chunks: AsyncIterable<Uint8Array | string>,
  onLine: (bytes: Buffer, start: number, end: number, line: number) => void,
  take?: (bytes: Buffer, start: number) => number,
): Promise<void> {
  let carry: Buffer | undefined;
  let line = 0;
  let first = true;
  const emit = (b: Buffer, s: number, e: number, n: number) => onLine(b, s, e > s && b[e - 1] === 13 ? e - 1 : e, n);
  for await (const chunk of chunks) {
    let b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (first) {
      if (carry !== undefined) b = Buffer.concat([carry, b]);
      if (b.length < 3 && b.length > 0 && BOM.subarray(0, b.length).equals(b)) {
        carry = b; // a byte order mark may be cut across chunks
        continue;
      }
      carry = undefined;
      if (b.length > 0) first = false;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
    }
    let from = 0;
    if (carry !== undefined) {
      const newline = b.indexOf(10);
      if (newline === -1) {
        carry = Buffer.concat([carry, b]);
        continue;
      }
      const joined = Buffer.concat([carry, b.subarray(0, newline)]);
      carry = undefined;
      emit(joined, 0, joined.length, ++line);
      from = newline + 1;
    }
    for (;;) {
      const taken = take === undefined ? -1 : take(b, from);
      if (taken !== -1) {
        line++;
        from = taken + 1;
        continue;
      }
      const newline = b.indexOf(10, from);
      if (newline === -1) break;
      emit(b, from, newline, ++line);
      from = newline + 1;
    }
    if (from < b.length) carry = Buffer.from(b.subarray(from));
  }
  if (carry !== undefined && carry.length > 0) {
    if (first && carry[0] === 0xef && carry[1] === 0xbb && carry[2] === 0xbf) carry = carry.subarray(3);
    emit(carry, 0, carry.length, line + 1);
  }
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
