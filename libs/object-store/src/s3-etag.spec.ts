import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectedMultipartEtag, patternBytes } from './object-store.contract';
import { ObjectStoreConfigError } from './object-store.errors';
import {
  checkSize,
  effectivePartSize,
  EtagHasher,
  multipartEtag,
  planParts,
  quoteEtag,
  S3_MAX_PARTS,
  unquoteEtag,
} from './s3-etag';

const MiB = 1024 * 1024;

describe('ETag helpers', () => {
  it('unquotes and quotes ETags, including weak ones', () => {
    expect(unquoteEtag('"abc"')).toBe('abc');
    expect(unquoteEtag('abc')).toBe('abc');
    expect(unquoteEtag('W/"abc-2"')).toBe('abc-2');
    expect(quoteEtag('abc')).toBe('"abc"');
    expect(quoteEtag('"abc"')).toBe('"abc"');
  });

  it('computes the multipart form from part digests (known S3 example: two parts)', () => {
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.from('tail')];
    const digests = parts.map((p) => createHash('md5').update(p).digest());

    expect(multipartEtag(digests)).toBe(expectedMultipartEtag(Buffer.concat(parts), 5 * MiB));
    expect(multipartEtag(digests)).toMatch(/^[0-9a-f]{32}-2$/);
  });
});

describe('planParts / effectivePartSize', () => {
  it('splits into consecutive inclusive ranges with a shorter last part', () => {
    expect(planParts(12, 5)).toEqual([
      { partNumber: 1, start: 0, end: 4 },
      { partNumber: 2, start: 5, end: 9 },
      { partNumber: 3, start: 10, end: 11 },
    ]);
    expect(planParts(10, 5)).toHaveLength(2);
    expect(planParts(0, 5)).toEqual([]);
  });

  it('keeps the configured part size unless that would need more than 10,000 parts', () => {
    expect(effectivePartSize(6 * 1024 * MiB, 64 * MiB)).toBe(64 * MiB);
    const fiveTiB = 5 * 1024 * 1024 * MiB;
    const raised = effectivePartSize(fiveTiB, 64 * MiB);
    expect(raised % MiB).toBe(0);
    expect(planParts(fiveTiB, raised).length).toBeLessThanOrEqual(S3_MAX_PARTS);
    expect(planParts(fiveTiB, raised - MiB).length).toBeGreaterThan(S3_MAX_PARTS);
  });
});

describe('EtagHasher', () => {
  const bytes = patternBytes(11 * MiB + 3, 41);

  it.each([997, 4093, 64 * 1024, 5 * MiB, 5 * MiB + 1, 11 * MiB + 3])(
    'gives the same ETag whatever the chunking (%i-byte chunks)',
    (chunk) => {
      const hasher = new EtagHasher(5 * MiB);
      for (let i = 0; i < bytes.byteLength; i += chunk) hasher.update(bytes.subarray(i, i + chunk));

      expect(hasher.size).toBe(bytes.byteLength);
      expect(hasher.digest()).toBe(expectedMultipartEtag(bytes, 5 * MiB));
    },
  );

  it('is a plain MD5 up to one part, or without a part size, or when told it is not multipart', () => {
    const exactlyOnePart = bytes.subarray(0, 5 * MiB);
    const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
    const hash = (partSize: number | undefined, b: Uint8Array, multipart?: boolean) => {
      const h = new EtagHasher(partSize);
      h.update(b);
      return h.digest(multipart);
    };

    expect(hash(5 * MiB, exactlyOnePart)).toBe(md5(exactlyOnePart));
    expect(hash(undefined, bytes)).toBe(md5(bytes));
    expect(hash(5 * MiB, bytes, false)).toBe(md5(bytes));
    expect(hash(5 * MiB, exactlyOnePart, true)).toBe(expectedMultipartEtag(exactlyOnePart, 5 * MiB));
    expect(hash(5 * MiB, exactlyOnePart, true)).toMatch(/-1$/);
  });
});

describe('checkSize', () => {
  it('returns the default, accepts valid values and names the option otherwise', () => {
    expect(checkSize('x', undefined, 7)).toBe(7);
    expect(checkSize('x', 9, 7, 5)).toBe(9);
    expect(() => checkSize('partSize', 4, 7, 5)).toThrow(ObjectStoreConfigError);
    expect(() => checkSize('partSize', Number.NaN, 7)).toThrow(/partSize must be an integer >= 1, got NaN/);
  });
});
