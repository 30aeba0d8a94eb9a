export interface ResultCacheOptions {
  /** How long a result is served again, in ms. */
  ttlMs: number;
  /** Results kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Milliseconds from any fixed origin (default `performance.now`); injectable for tests. */
  now?: () => number;
}

interface Entry<V> {
  /** When the value was computed (undefined while pending). */
  at?: number;
  value?: V;
  pending?: Promise<V>;
}

/**
 * A small result cache for a server: each key's result is served for `ttlMs`, identical requests while one is being
 * computed share that one computation (single flight), failures are not kept, and at most `maxEntries` keys are held
 * (least recently used evicted), so keys a client makes up cannot grow memory.
 */
export class ResultCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #now: () => number;

  constructor(private readonly options: ResultCacheOptions) {
    this.#now = options.now ?? (() => performance.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached result of `key`, the one being computed, or a new computation by `compute`. */
  get(key: string, compute: () => Promise<V>): Promise<V> {
    const entry = this.#entries.get(key);
    if (entry?.pending) return entry.pending;
    if (entry?.at !== undefined && this.#now() - entry.at < this.options.ttlMs) {
      // most recently used moves to the end of the map's order
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      return Promise.resolve(entry.value as V);
    }
    const fresh: Entry<V> = {};
    const pending = compute().then(
      (value) => {
        if (this.#entries.get(key) === fresh) {
          fresh.at = this.#now();
          fresh.value = value;
          delete fresh.pending;
        }
        return value;
      },
      (error: unknown) => {
        if (this.#entries.get(key) === fresh) this.#entries.delete(key);
        throw error;
      },
    );
    fresh.pending = pending;
    this.#entries.delete(key);
    this.#entries.set(key, fresh);
    while (this.#entries.size > this.options.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return pending;
  }
}
