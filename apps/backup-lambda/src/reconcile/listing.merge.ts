import { compareKeys } from '@btc-etl/object-store';

/** One key and what each side holds for it (at least one of the two is set). */
export interface MergedPair<T> {
  key: string;
  source?: T;
  backup?: T;
}

/**
 * Merge-join two listings that each come in ascending key order (UTF-8 bytes, as S3 and the local store list):
 * yields every key once, with the source's and the backup's entry side by side. Holds one entry per side, so memory
 * does not depend on the listings' length. Both listings are closed when the consumer stops early.
 * @example for await (const { key, source, backup } of mergeSortedListings(sourceList, backupList)) ...
 */
export async function* mergeSortedListings<T>(
  source: AsyncIterable<{ key: string; info: T }>,
  backup: AsyncIterable<{ key: string; info: T }>,
): AsyncGenerator<MergedPair<T>> {
  const left = source[Symbol.asyncIterator]();
  const right = backup[Symbol.asyncIterator]();
  try {
    let a = await left.next();
    let b = await right.next();
    while (!a.done || !b.done) {
      const order = a.done ? 1 : b.done ? -1 : compareKeys(a.value.key, b.value.key);
      if (order < 0 && !a.done) {
        yield { key: a.value.key, source: a.value.info };
        a = await left.next();
      } else if (order > 0 && !b.done) {
        yield { key: b.value.key, backup: b.value.info };
        b = await right.next();
      } else if (!a.done && !b.done) {
        yield { key: a.value.key, source: a.value.info, backup: b.value.info };
        [a, b] = await Promise.all([left.next(), right.next()]);
      }
    }
  } finally {
    await Promise.all([left.return?.(), right.return?.()]);
  }
}
