import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachRawLine, numberedLines } from './raw.lines';

const TAKEN = Buffer.from('{"a":1}');
const TAKEN_LINE = -1;

/**
 * The lines forEachRawLine hands over, decoded, blank ones dropped: what numberedLines yields. With `withTake`, a
 * `take` hook consumes the lines that are exactly `{"a":1}` (with their `\n` in the same chunk, `\r\n` tolerated),
 * as the compactor's fast parser does, and those come back from it instead.
 */
async function byteLines(chunks: Uint8Array[], withTake = false): Promise<[string, number][]> {
  const out: [string, number][] = [];
  const take = (bytes: Buffer, start: number): number => {
    const end = start + TAKEN.length;
    if (!bytes.subarray(start, end).equals(TAKEN)) return -1;
    const newline = bytes[end] === 13 ? end + 1 : end;
    if (bytes[newline] !== 10) return -1;
    out.push(['{"a":1}', TAKEN_LINE]); // its number is not handed over: the ones after it must count it

    return newline;
  };
  await forEachRawLine(
    (async function* () {
      yield* chunks;
    })(),
    (bytes, start, end, line) => {
      const text = bytes.toString('utf8', start, end);
      if (text.trim() !== '') out.push([text, line]);
    },
    withTake ? take : undefined,
  );
  return out;
}

async function textLines(chunks: Uint8Array[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const entry of numberedLines(
    (async function* () {
      yield* chunks;
    })(),
  )) {
    out.push(entry);
  }
  return out;
}

/** The bytes cut into chunks at the given places (a line, a `\r\n` or a character may be split anywhere). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((a) => a % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

describe('forEachRawLine (bytes) against numberedLines (text)', () => {
  const piece = fc.constantFrom('{"a":1}', '', ' ', '\r', 'é', '€', '😀', 'x', '\u00a0', '\ufeff', '\xff');

  it('gives the same lines with the same numbers, however the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(
          fc.array(piece, { maxLength: 4 }).map((p) => p.join('')),
          { maxLength: 8 },
        ),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (bom, lines, trailingNewline, at) => {
          const text = (bom ? '\ufeff' : '') + lines.join('\n') + (trailingNewline ? '\n' : '');
          const bytes = new TextEncoder().encode(text);
          // invalid UTF-8 too: a lone continuation byte
          const withInvalid = Uint8Array.from([...bytes, 0x80, 0x0a, 0x41]);
          for (const b of [bytes, withInvalid]) {
            const chunks = cut(b, at);
            const expected = await textLines(chunks);
            expect(await byteLines(chunks)).toEqual(expected);
            // with a take hook: the same lines, and the numbers of those handed to onLine count the taken ones
            const taking = await byteLines(chunks, true);
            expect(taking.map(([text]) => text)).toEqual(expected.map(([text]) => text));
            taking.forEach(([, line], k) => line === TAKEN_LINE || expect(line).toBe(expected[k]?.[1]));
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('offers a take hook each line that starts inside a chunk, and counts the lines it takes', async () => {
    const text = '{"a":1}\n{"a":1}\r\nb\n\n{"a":1}\nc\n{"a":1}';
    const lines = await byteLines([new TextEncoder().encode(text)], true);
    expect(lines).toEqual([
      ['{"a":1}', TAKEN_LINE],
      ['{"a":1}', TAKEN_LINE],
      ['b', 3],
      ['{"a":1}', TAKEN_LINE],
      ['c', 6],
      // the last line has no newline: not offered, handed over with its number
      ['{"a":1}', 7],
    ]);
  });

  it('numbers a last line without a newline, and tolerates \\r\\n', async () => {
    const lines = await byteLines([new TextEncoder().encode('a\r\n\r\nb\nc')]);
    expect(lines).toEqual([
      ['a', 1],
      ['b', 3],
      ['c', 4],
    ]);
  });
});
