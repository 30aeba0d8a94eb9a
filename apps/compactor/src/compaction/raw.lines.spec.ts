import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachRawLine, numberedLines } from './raw.lines';

/** The lines forEachRawLine hands over, decoded, blank ones dropped: what numberedLines yields. */
async function byteLines(chunks: Uint8Array[]): Promise<[string, number][]> {
  const out: [string, number][] = [];
  await forEachRawLine(
    (async function* () {
      yield* chunks;
    })(),
    (bytes, start, end, line) => {
      const text = bytes.toString('utf8', start, end);
      if (text.trim() !== '') out.push([text, line]);
    },
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
            expect(await byteLines(chunks)).toEqual(await textLines(chunks));
          }
        },
      ),
      { numRuns: 1_000 },
    );
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
