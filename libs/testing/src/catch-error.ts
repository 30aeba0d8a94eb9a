/**
 * Run `fn` and return what it threw, checked to be a `type`; fail when it returns or throws something else. Replaces
 * the `try { ...; expect.fail() } catch (e) { ... }` idiom, so a test reads the error's data directly.
 * Works with sync and async functions (await the result for async ones).
 *
 * @example
 * const error = await catchError(() => client.ticker('BTC-USD'), CoinbaseHttpError);
 * expect(error.status).toBe(429);
 */
export function catchError<E extends Error>(
  fn: () => Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E>;
export function catchError<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E;
export function catchError<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
): E | Promise<E> {
  const check = (thrown: unknown): E => {
    if (thrown instanceof type) return thrown;
    const got = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    throw new Error(`expected a ${type.name} to be thrown, got ${got}`, { cause: thrown });
  };
  let result: unknown;
  try {
    result = fn();
  } catch (thrown) {
    return check(thrown);
  }
  if (result instanceof Promise) {
    return result.then(() => {
      throw new Error(`expected a ${type.name} to be thrown, the promise resolved`);
    }, check);
  }
  throw new Error(`expected a ${type.name} to be thrown, the function returned`);
}
