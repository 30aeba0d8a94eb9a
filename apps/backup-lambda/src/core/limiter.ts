/** Runs at most `concurrency` tasks at once; the rest wait in arrival order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * A small bounded-concurrency gate (the p-limit idea in a dozen lines; not worth a dependency in a Lambda bundle).
 * One limiter is shared by every record of a batch, so a batch of 10 messages with 10 objects each still keeps only
 * `concurrency` copies in flight.
 */
export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
