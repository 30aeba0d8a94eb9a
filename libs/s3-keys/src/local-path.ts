import { resolve, sep } from 'node:path';
import { UnsafeKeyError } from './s3-keys.errors';

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** S3's bucket naming rules (3-63 chars, lower-case letters, digits, dots and hyphens, no `..`, not an IP address). */
export function assertBucketName(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new UnsafeKeyError(bucket, '', 'not a valid S3 bucket name');
  }
}

function lenientDecode(segment: string): string {
  // Decode repeatedly so `%252e%252e` is seen for what it becomes after two rounds of decoding.
  let current = segment;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return current;
    }
    if (next === current) return current;
    current = next;
  }
  return current;
}

/**
 * Why a key cannot live under a local root, or undefined when it can. Beyond what S3 forbids, a local directory
 * cannot tell `a//b` from `a/b`, nor hold both `a/` and `a/b`, and a key must never walk out of its bucket, in
 * plain or percent-encoded form.
 */
export function unsafeKeyReason(key: string): string | undefined {
  if (key.length === 0) return 'empty key';
  if (Buffer.byteLength(key, 'utf8') > 1024) return 'longer than 1024 bytes';
  if (key.includes('\0')) return 'NUL byte';
  if (key.includes('\\')) return 'backslash';
  if (key.startsWith('/')) return 'absolute path';
  if (/^[a-zA-Z]:/.test(key)) return 'drive letter';
  if (key.endsWith('/')) return 'ends in "/" (a folder marker, not an object)';
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty path segment ("//")';
    if (segment === '.' || segment === '..') return `"${segment}" path segment`;
    // without a '%' there is nothing to decode, and '/', '\\' and NUL were refused above
    if (!segment.includes('%')) continue;
    const decoded = lenientDecode(segment);
    if (decoded === '.' || decoded === '..') return `percent-encoded "${decoded}" path segment`;
    if (/[/\\\0]/.test(decoded)) return 'percent-encoded "/", "\\" or NUL';
  }
  return undefined;
}

/**
 * Why a key prefix (a listing filter such as `raw/2026/11/`) could only ever select unsafe keys, or undefined when
 * it is fine. The empty prefix is fine; a prefix may end inside a segment (`raw/2026/1`).
 */
export function unsafePrefixReason(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  // Any key under the prefix starts with it: judge the prefix as the start of an ordinary key.
  return unsafeKeyReason(`${prefix}x`);
}

/**
 * The file that holds (bucket, key) under a local root: `<root>/<bucket>/<key>`. Throws UnsafeKeyError for any
 * bucket or key that could escape the root or collide with another key.
 * @example localObjectPath('./data', 'btc-etl-raw', 'raw/2026/11/27/19/x')
 *   // '/abs/data/btc-etl-raw/raw/2026/11/27/19/x'
 */
export function localObjectPath(root: string, bucket: string, key: string): string {
  assertBucketName(bucket);
  const reason = unsafeKeyReason(key);
  if (reason) throw new UnsafeKeyError(bucket, key, reason);
  const bucketDir = resolve(root, bucket);
  // the checks above leave no '.', '..' or empty segment to resolve: on POSIX the key is the rest of the path as it is
  const path = sep === '/' ? `${bucketDir}/${key}` : resolve(bucketDir, ...key.split('/'));
  // Belt and braces: whatever the checks above missed, the resolved path must stay inside the bucket folder.
  if (!path.startsWith(bucketDir + sep)) throw new UnsafeKeyError(bucket, key, 'resolves outside its bucket folder');
  return path;
}
