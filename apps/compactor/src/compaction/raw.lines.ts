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
