import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { sleep } from '@btc-etl/resilience';

/** The locked section is two renames; a lock file older than this was left by a crashed writer. */
const STALE_LOCK_MS = 10_000;
const LOCK_TIMEOUT_MS = 30_000;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A per-key mutual exclusion that also holds across processes sharing one data directory: a lock file created with
 * O_EXCL (`wx`), removed afterwards. Within a process, waiters queue on a promise chain instead of polling.
 */
export class KeyLocks {
  private readonly queues = new Map<string, Promise<void>>();

  /** Run `fn` holding the lock. `bestEffort`: on a read-only or unwritable data folder, run it unlocked. */
  async with<T>(lockPath: string, fn: () => Promise<T>, options: { bestEffort?: boolean } = {}): Promise<T> {
    const previous = this.queues.get(lockPath) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolveMine) => {
      release = resolveMine;
    });
    const tail = previous.then(() => mine);
    this.queues.set(lockPath, tail);
    await previous;
    try {
      return await withFileLock(lockPath, fn, options.bestEffort ?? false);
    } finally {
      release();
      if (this.queues.get(lockPath) === tail) this.queues.delete(lockPath);
    }
  }
}

const UNWRITABLE_CODES = new Set(['EROFS', 'EACCES', 'EPERM']);

async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, bestEffort: boolean): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if (bestEffort && UNWRITABLE_CODES.has(code(error) ?? '')) return fn();
      if (code(error) === 'ENOENT') {
        try {
          await mkdir(dirname(lockPath), { recursive: true });
        } catch (mkdirError) {
          if (bestEffort && UNWRITABLE_CODES.has(code(mkdirError) ?? '')) return fn();
          throw mkdirError;
        }
        continue;
      }
      if (code(error) !== 'EEXIST') throw error;
      const held = await stat(lockPath).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() - started > LOCK_TIMEOUT_MS) {
        throw new Error(`timed out after ${LOCK_TIMEOUT_MS} ms waiting for lock file ${lockPath}`, { cause: error });
      }
      await sleep(1 + Math.random() * 4);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
