import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '@btc-etl/resilience';
import { catchError } from '@btc-etl/testing';
import { SpoolLockedError, type SpoolLeaseHolder } from '../extractor.errors';
import { LEASE_FILE, SpoolLease, type SpoolLeaseOptions } from './spool.lease';

/** A clock moved by hand; timers fire only when `advance` passes them. */
function manualClock(start = Date.UTC(2026, 11, 1, 12)): Clock & { advance(ms: number): void } {
  let now = start;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = until;
    },
  };
}

describe('SpoolLease', () => {
  let dir: string;
  let clock: ReturnType<typeof manualClock>;
  const live = new Set<SpoolLease>();
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'extractor-lease-')), 'spool');
    clock = manualClock();
  });
  afterEach(() => {
    for (const lease of live) lease.release();
    live.clear();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  const acquire = async (options: Partial<SpoolLeaseOptions> & { runId: string }) => {
    const lease = await SpoolLease.acquire({
      dir,
      clock,
      host: 'task-a',
      pid: 100,
      isAlive: () => true,
      staleMs: 30_000,
      ...options,
    });
    live.add(lease);
    return lease;
  };
  const leaseFile = () => JSON.parse(readFileSync(join(dir, LEASE_FILE), 'utf8')) as SpoolLeaseHolder;

  it('takes a free spool and writes who holds it', async () => {
    const lease = await acquire({ runId: 'run-1' });
    expect(lease.holder).toEqual({
      pid: 100,
      host: 'task-a',
      runId: 'run-1',
      since: '2026-12-01T12:00:00.000Z',
      heartbeatAt: '2026-12-01T12:00:00.000Z',
    });
    expect(leaseFile()).toMatchObject(lease.holder);
  });

  it('refuses a second writer while the holder heartbeats, naming pid, host, run id and since when', async () => {
    await acquire({ runId: 'run-1' });
    clock.advance(60_000); // two stale periods: the heartbeat kept it fresh all along
    const error = await catchError(() => acquire({ runId: 'run-2', host: 'task-b', pid: 7 }), SpoolLockedError);
    expect(error.message).toMatch(/pid 100 on task-a, run run-1, since 2026-12-01T12:00:00.000Z/);
    expect(error.data.holder).toMatchObject({ pid: 100, host: 'task-a', runId: 'run-1' });
    expect(leaseFile().runId).toBe('run-1');
  });

  it('takes over a holder on another host whose heartbeat stopped longer ago than staleMs', async () => {
    const first = await acquire({ runId: 'run-1' });
    first['stopHeartbeat'](); // the holder froze (or its task vanished) without releasing
    clock.advance(29_000);
    await catchError(() => acquire({ runId: 'run-2', host: 'task-b' }), SpoolLockedError);
    clock.advance(1_000);
    const second = await acquire({ runId: 'run-2', host: 'task-b' });
    expect(leaseFile().runId).toBe('run-2');
    expect(second.holder.host).toBe('task-b');
  });

  it('takes over at once from a dead process of this host (kill -9, then a restart in place)', async () => {
    await acquire({ runId: 'run-1', pid: 100 });
    const second = await acquire({ runId: 'run-2', pid: 200, isAlive: (pid) => pid !== 100 });
    expect(second.holder.runId).toBe('run-2');
  });

  it('takes over at once from an earlier run with its own pid (pid 1 in a restarted container)', async () => {
    await acquire({ runId: 'run-1', pid: 1 });
    const second = await acquire({ runId: 'run-2', pid: 1 });
    expect(leaseFile().runId).toBe('run-2');
    expect(second.holder.pid).toBe(1);
  });

  it('waits up to waitMs for the holder to let go, then takes the spool', async () => {
    const first = await acquire({ runId: 'run-1' });
    let acquired: SpoolLease | undefined;
    const waiting = acquire({ runId: 'run-2', host: 'task-b', waitMs: 120_000 }).then((l) => (acquired = l));
    clock.advance(5_000);
    await Promise.resolve();
    expect(acquired).toBeUndefined();
    first.release();
    clock.advance(5_000);
    await waiting;
    expect(acquired?.holder.runId).toBe('run-2');
  });

  it('a waiter takes over a holder whose lease file stopped changing, whatever its clock says', async () => {
    mkdirSync(dir, { recursive: true });
    // written by a holder whose clock runs an hour ahead, then died on another host
    const future = new Date(clock.now() + 3_600_000).toISOString();
    writeFileSync(
      join(dir, LEASE_FILE),
      JSON.stringify({ pid: 5, host: 'task-z', runId: 'run-0', since: future, heartbeatAt: future, token: 't' }),
    );
    const waiting = acquire({ runId: 'run-2', waitMs: 120_000 });
    for (let i = 0; i < 40; i++) {
      clock.advance(1_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await waiting).holder.runId).toBe('run-2');
  });

  it('takes over an unreadable lease file (a holder died while creating it) once its mtime is stale', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, LEASE_FILE), '');
    const recent = new Date(clock.now() - 1_000);
    utimesSync(join(dir, LEASE_FILE), recent, recent);
    const error = await catchError(() => acquire({ runId: 'run-2' }), SpoolLockedError);
    expect(error.message).toMatch(/unreadable lease file/);
    const old = new Date(clock.now() - 60_000);
    utimesSync(join(dir, LEASE_FILE), old, old);
    expect((await acquire({ runId: 'run-2' })).holder.runId).toBe('run-2');
  });

  it('renews its heartbeat, and reports the loss when another process took the lease over', async () => {
    const lost: (SpoolLeaseHolder | undefined)[] = [];
    await acquire({ runId: 'run-1', onLost: (h) => lost.push(h) });
    clock.advance(5_000);
    expect(leaseFile().heartbeatAt).toBe('2026-12-01T12:00:05.000Z');
    // someone judged it stale and replaced it
    writeFileSync(
      join(dir, LEASE_FILE),
      JSON.stringify({ pid: 9, host: 'task-b', runId: 'run-9', since: 'x', heartbeatAt: 'x', token: 'other' }),
    );
    clock.advance(5_000);
    expect(lost).toEqual([{ pid: 9, host: 'task-b', runId: 'run-9', since: 'x', heartbeatAt: 'x' }]);
    expect(leaseFile().runId).toBe('run-9'); // never overwrites the new holder's lease
  });

  it('release deletes the lease file (only its own), so the next writer starts at once', async () => {
    const first = await acquire({ runId: 'run-1' });
    first.release();
    expect(existsSync(join(dir, LEASE_FILE))).toBe(false);
    const second = await acquire({ runId: 'run-2' });
    first.release(); // a second release of the old lease must not remove the new one
    expect(leaseFile().runId).toBe(second.holder.runId);
  });
});
