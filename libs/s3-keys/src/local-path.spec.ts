import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import {
  UnsafeKeyError,
  decodeS3EventKey,
  encodeS3EventKey,
  localObjectPath,
  unsafeKeyReason,
  unsafePrefixReason,
} from './index';

const root = mkdtempSync(join(tmpdir(), 's3-keys-'));

describe('decodeS3EventKey', () => {
  it.each([
    ['raw/2026/11/27/19/red+flower.json', 'raw/2026/11/27/19/red flower.json'],
    ['a%2Bb', 'a+b'],
    ['100%25+done', '100% done'],
    ['raw%2F2026%2F11%2Fx', 'raw/2026/11/x'],
    ['caf%C3%A9/%E2%82%BF', 'café/₿'],
    ['plain', 'plain'],
  ])('%s -> %s', (encoded, decoded) => {
    expect(decodeS3EventKey(encoded)).toBe(decoded);
  });
  it('round-trips with the encoder for spaces, plus, percent and unicode', () => {
    const key = 'deep/a b/c+d/100%/ünï ₿/x';
    expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
  });
  it('names a malformed escape', () => {
    expect(() => decodeS3EventKey('bad%E0%A4%A')).toThrow(/malformed percent-encoding.*bad%E0%A4%A/);
  });
});

describe('localObjectPath', () => {
  it('maps bucket and key under the root', () => {
    expect(localObjectPath(root, 'btc-etl-raw', 'raw/2026/11/27/19/a b+c%.json')).toBe(
      resolve(root, 'btc-etl-raw', 'raw', '2026', '11', '27', '19', 'a b+c%.json'),
    );
    expect(localObjectPath(root, 'b.c-d', 'ünïcode/₿')).toBe(resolve(root, 'b.c-d', 'ünïcode', '₿'));
  });

  it.each([
    ['..', '"..'],
    ['../escape', '"..'],
    ['raw/../../etc/passwd', '"..'],
    ['raw/./x', '"."'],
    ['/etc/passwd', 'absolute'],
    ['raw\\..\\x', 'backslash'],
    ['raw/x\0y', 'NUL'],
    ['%2e%2e/x', 'percent-encoded ".."'],
    ['raw/%2E%2E', 'percent-encoded ".."'],
    ['raw/%252e%252e/x', 'percent-encoded ".."'],
    ['raw/..%2fx', 'percent-encoded "/"'],
    ['raw/%5c..', 'percent-encoded "/"'],
    ['raw/%00', 'percent-encoded "/"'],
    ['raw//x', 'empty path segment'],
    ['raw/', 'folder marker'],
    ['', 'empty key'],
    ['C:/x', 'drive letter'],
    ['x'.repeat(1025), '1024 bytes'],
  ])('rejects key %j (%s)', (key, reason) => {
    const error = catchError(() => localObjectPath(root, 'bucket', key), UnsafeKeyError);
    expect(error.message).toContain(reason);
    expect(error.key).toBe(key);
  });

  it.each(['..', 'A', 'ab', 'a_b', '../x', 'a/b', '192.168.0.1', '.hidden', 'a..b'])('rejects bucket %j', (bucket) => {
    expect(() => localObjectPath(root, bucket, 'k')).toThrow(/not a valid S3 bucket name/);
  });

  it('has a reason for every unsafe key and none for ordinary ones', () => {
    expect(unsafeKeyReason('raw/2026/11/27/19/btc-etl-ticks-1-2026-11-27-19-53-05-x')).toBeUndefined();
    expect(unsafeKeyReason('a..b/c...d')).toBeUndefined();
  });
});

describe('unsafePrefixReason', () => {
  it.each(['', 'raw/', 'raw/2026/11/', 'raw/2026/1', 'r'])('accepts %j', (prefix) => {
    expect(unsafePrefixReason(prefix)).toBeUndefined();
  });
  it.each([
    ['../../secret/', '".."'],
    ['raw/../../', '".."'],
    ['/etc/', 'absolute'],
    ['raw//', 'empty path segment'],
    ['%2e%2e/', 'percent-encoded ".."'],
    ['raw\\', 'backslash'],
  ])('rejects %j (%s)', (prefix, reason) => {
    expect(unsafePrefixReason(prefix)).toContain(reason);
  });
});
