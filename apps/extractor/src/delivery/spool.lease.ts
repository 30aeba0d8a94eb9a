import { randomUUID } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sleep, systemClock, type Clock } from '@btc-etl/resilience';
import { SpoolLockedError, type SpoolLeaseHolder } from '../extractor.errors';
import { diskSync } from './spool';

/** The lease file inside the spool directory. */
export const LEASE_FILE = 'spool.lease';
const TAKEOVER_FILE = 'spool.lease.takeover';

export interface SpoolLeaseOptions {
  /** The spool directory (created when missing). */
  dir: string;
  /** Names this process in the lease (the run id of its log lines). */
  runId: string;
  /** How long to wait for a live holder to go away before refusing (0: refuse at once). */
  waitMs?: number;
  /**
   * A holder whose heartbeat is older than this is taken to be dead and the lease taken over (default 30 s). The
   * holder heartbeats every sixth of it, so a live one is never judged stale unless it stalls that long.
   */
  staleMs?: number;
  /**
   * Called when this process finds, at a heartbeat, that its lease was taken over (it stalled past `staleMs`):
   * it must stop writing to the spool at once.
   */
  onLost?: (holder: SpoolLeaseHolder | undefined) => void;
  clock?: Clock;
  /** This machine's name (default `os.hostname()`). */
  host?: string;
  pid?: number;
  /** Whether a process of this host runs (default `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
}

interface LeaseContent extends SpoolLeaseHolder {
  /** Unique per acquisition: tells this lease from any other, even of the same run. */
  token: string;
}

type Observed =
  | { kind: 'none' }
  | { kind: 'held'; raw: string; holder: LeaseContent }
  | { kind: 'unreadable'; raw: string; mtimeMs: number };

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The spool's single-writer guarantee: an `O_EXCL` lease file in the spool directory, renewed by a heartbeat and
 * taken over only when stale. It works where the spool lives on AWS, EFS (NFSv4.1): exclusive create is atomic
 * there, and no lock state is held by the server for a client that may vanish (a crashed task's advisory lock is
 * released only after the NFS lease period, and fcntl locks do not survive a container restart in a useful way).
 *
 * A holder is stale when its heartbeat is older than `staleMs` (clocks of one region agree to well under a second;
 * `staleMs` is 30 s), or it ran on this host and its pid is gone (a `kill -9` and a restart in place need no wait),
 * or, while this process waits, its lease file has not changed for `staleMs` by this process's own clock (so a
 * skewed clock cannot keep a dead holder alive). Takeover is serialised by a second `O_EXCL` file, so two
 * newcomers never both take a stale lease.
 */
export class SpoolLease {
  private readonly path: string;
  private readonly clock: Clock;
  private heartbeat: unknown;
  private released = false;

  private constructor(
    private readonly options: SpoolLeaseOptions,
    private content: LeaseContent,
    private readonly staleMs: number,
  ) {
    this.path = join(options.dir, LEASE_FILE);
    this.clock = options.clock ?? systemClock;
  }

  /** Who holds it (this process). */
  get holder(): SpoolLeaseHolder {
    const { token: _token, ...holder } = this.content;
    return holder;
  }

  /**
   * Take the spool directory's lease, waiting up to `waitMs` for a live holder to let go. Throws
   * {@link SpoolLockedError} naming the holder (pid, host, run id, since when) when it does not.
   */
  static async acquire(options: SpoolLeaseOptions): Promise<SpoolLease> {
    const clock = options.clock ?? systemClock;
    const staleMs = options.staleMs ?? 30_000;
    const waitMs = options.waitMs ?? 0;
    const host = options.host ?? hostname();
    const pid = options.pid ?? process.pid;
    const isAlive = options.isAlive ?? isProcessAlive;
    mkdirSync(options.dir, { recursive: true });
    const path = join(options.dir, LEASE_FILE);
    const started = clock.now();
    // what this process has seen of the current lease file, and since when (its own clock)
    let seen: { raw: string; since: number } | undefined;
    const pollMs = Math.max(50, Math.min(1_000, Math.floor(staleMs / 6)));
    // The system clock's timers are unref'd (they never keep a process alive): a process whose only work is to wait
    // for the lease would otherwise just exit. This one handle holds it while acquire runs.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      return await acquireLoop();
    } finally {
      clearInterval(keepAlive);
    }

    async function acquireLoop(): Promise<SpoolLease> {
      for (;;) {
        const now = clock.now();
        const content: LeaseContent = {
          pid,
          host,
          runId: options.runId,
          since: new Date(now).toISOString(),
          heartbeatAt: new Date(now).toISOString(),
          token: randomUUID(),
        };
        if (createExclusive(path, content, options.dir)) return new SpoolLease(options, content, staleMs).start();

        const observed = observe(path);
        if (observed.kind !== 'none') {
          if (seen?.raw !== observed.raw) seen = { raw: observed.raw, since: now };
          const unchangedMs = now - seen.since;
          const stale =
            unchangedMs >= staleMs ||
            (observed.kind === 'unreadable'
              ? now - observed.mtimeMs >= staleMs
              : now - Date.parse(observed.holder.heartbeatAt) >= staleMs ||
                (observed.holder.host === host &&
                  observed.holder.runId !== options.runId &&
                  (observed.holder.pid === pid || !isAlive(observed.holder.pid))));
          if (stale && takeOver(options.dir, path, observed.raw, content, staleMs, now))
            return new SpoolLease(options, content, staleMs).start();
          if (!stale && now - started >= waitMs) {
            const holder: SpoolLeaseHolder =
              observed.kind === 'held'
                ? withoutToken(observed.holder)
                : { pid: 0, host: 'unknown (unreadable lease file)', runId: 'unknown', since: '?', heartbeatAt: '?' };
            throw new SpoolLockedError(options.dir, holder, now - started);
          }
        }
        // gone (released between our create and our read), being taken over, or live and we may wait: look again
        await sleep(observed.kind === 'none' ? 0 : pollMs, { clock });
      }
    }
  }

  private start(): this {
    const every = Math.max(10, Math.floor(this.staleMs / 6));
    const beat = () => {
      if (this.released) return;
      try {
        this.renew();
      } catch {
        // a passing I/O error (an NFS hiccup): the next beat tries again; a lease lost meanwhile is found then
      }
      if (!this.released) this.heartbeat = this.clock.setTimeout(beat, every);
    };
    this.heartbeat = this.clock.setTimeout(beat, every);
    return this;
  }

  /** One heartbeat: check the lease is still ours, then write the new time. Exposed for tests. */
  renew(): void {
    const observed = observe(this.path);
    if (observed.kind !== 'held' || observed.holder.token !== this.content.token) {
      this.stopHeartbeat();
      this.released = true;
      this.options.onLost?.(observed.kind === 'held' ? withoutToken(observed.holder) : undefined);
      return;
    }
    this.content = { ...this.content, heartbeatAt: new Date(this.clock.now()).toISOString() };
    const fd = openSync(this.path, 'r+');
    try {
      const bytes = Buffer.from(JSON.stringify(this.content));
      ftruncateSync(fd, 0);
      writeSync(fd, bytes, 0, bytes.length, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Stop the heartbeat and delete the lease file (when it is still ours), so the next writer starts at once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.stopHeartbeat();
    const observed = observe(this.path);
    if (observed.kind === 'held' && observed.holder.token === this.content.token) unlinkSync(this.path);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) this.clock.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function withoutToken(content: LeaseContent): SpoolLeaseHolder {
  const { token: _token, ...holder } = content;
  return holder;
}

/** Create the lease file only if none exists (O_CREAT|O_EXCL: atomic on local disks and on NFSv4). */
function createExclusive(path: string, content: LeaseContent, dir: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(content));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  diskSync.dir(dir);
  return true;
}

function observe(path: string): Observed {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = readFileSync(path, 'utf8');
    mtimeMs = statSync(path).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw error;
  }
  try {
    const holder = JSON.parse(raw) as LeaseContent;
    if (typeof holder.token === 'string' && typeof holder.heartbeatAt === 'string')
      return { kind: 'held', raw, holder };
  } catch {
    // a holder that died between creating the file and writing it, or a write in progress
  }
  return { kind: 'unreadable', raw, mtimeMs };
}

/**
 * Replace a stale lease by ours, serialised by the takeover file: the stale lease is deleted only while it is still
 * exactly what was judged stale, and ours is then created exclusively (a newcomer that saw no file races fairly).
 */
function takeOver(
  dir: string,
  path: string,
  staleRaw: string,
  content: LeaseContent,
  staleMs: number,
  now: number,
): boolean {
  const takeoverPath = join(dir, TAKEOVER_FILE);
  let fd: number;
  try {
    fd = openSync(takeoverPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // a newcomer that died inside its takeover leaves the file behind: clear it once it is stale itself
    try {
      if (now - statSync(takeoverPath).mtimeMs >= staleMs) unlinkSync(takeoverPath);
    } catch {
      // gone already
    }
    return false;
  }
  closeSync(fd);
  try {
    const current = observe(path);
    if (current.kind !== 'none' && current.raw !== staleRaw) return false; // renewed or taken meanwhile
    if (current.kind !== 'none') unlinkSync(path);
    return createExclusive(path, content, dir);
  } finally {
    unlinkSync(takeoverPath);
  }
}
