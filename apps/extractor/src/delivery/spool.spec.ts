import {
  appendFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catchError } from '@btc-etl/testing';
import { SpoolFullError } from '../extractor.errors';
import { QUARANTINE_FILE, Spool, diskSync, type SpoolSync } from './spool';

const line = (n: number) => `{"n":${n}}\n`;
const lines = (from: number, count: number) => Array.from({ length: count }, (_, i) => line(from + i));
const segmentFiles = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('segment-'));

/** Every durability call, with the inode of the file or directory it was made on (so a test can tell which). */
function recordingSync(): SpoolSync & { calls: { op: 'file' | 'dir'; ino: number }[] } {
  const calls: { op: 'file' | 'dir'; ino: number }[] = [];
  return {
    calls,
    file: (fd) => {
      calls.push({ op: 'file', ino: fstatSync(fd).ino });
      diskSync.file(fd);
    },
    dir: (path) => {
      calls.push({ op: 'dir', ino: statSync(path).ino });
      diskSync.dir(path);
    },
  };
}

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'extractor-spool-')), 'spool');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('replays what an earlier run left unacknowledged, in order, and deletes it once acknowledged', () => {
    const first = Spool.open({ dir, capBytes: 1 << 20 });
    first.append(lines(0, 3));
    first.append(lines(3, 2));
    // no close: the process was killed here
    const second = Spool.open({ dir, capBytes: 1 << 20 });
    expect(second.depth).toBe(5);
    expect(second.list()).toMatchObject([{ count: 5, acked: 0, sealed: true }]);
    const id = second.list()[0]?.id ?? -1;
    expect(second.readLines(id, 0, 5)).toEqual(lines(0, 5));
    second.ack(id, 5);
    expect(second.depth).toBe(0);
    expect(second.bytes).toBe(0);
    expect(segmentFiles(dir)).toEqual([]);
    // new appends never reuse the replayed segment's id
    expect(second.append([line(9)])).toBeGreaterThan(id);
  });

  it('cuts off a torn tail (killed mid-write) and keeps every complete line', () => {
    const first = Spool.open({ dir, capBytes: 1 << 20 });
    const id = first.append(lines(0, 2));
    first.close();
    const path = join(dir, String(segmentFiles(dir)[0]));
    appendFileSync(path, '{"n":2,"half');
    const repairs: { path: string; droppedBytes: number }[] = [];
    const second = Spool.open({ dir, capBytes: 1 << 20, onRepair: (r) => repairs.push(r) });
    expect(repairs).toEqual([{ path, droppedBytes: '{"n":2,"half'.length }]);
    expect(readFileSync(path, 'utf8')).toBe(lines(0, 2).join(''));
    expect(second.depth).toBe(2);
    expect(second.readLines(id, 0, 2)).toEqual(lines(0, 2));
  });

  it('drops a segment that holds nothing but a torn line', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'segment-000000000007.ndjson'), '{"torn');
    const spool = Spool.open({ dir, capBytes: 1 << 20 });
    expect(spool.depth).toBe(0);
    expect(segmentFiles(dir)).toEqual([]);
    expect(spool.append([line(1)])).toBe(8);
  });

  it('rolls over to a new segment at the size limit and deletes a sealed one once fully acknowledged', () => {
    const spool = Spool.open({ dir, capBytes: 1 << 20, segmentMaxBytes: line(0).length * 3 });
    const [first, second, third] = [spool.append(lines(0, 2)), spool.append(lines(2, 2)), spool.append(lines(4, 1))];
    expect(second).toBe(first); // 4 lines passed the limit: sealed after the second append
    expect(third).toBe(first + 1);
    expect(spool.list().map((s) => ({ id: s.id, count: s.count, sealed: s.sealed }))).toEqual([
      { id: first, count: 4, sealed: true },
      { id: third, count: 1, sealed: false },
    ]);
    expect(segmentFiles(dir)).toHaveLength(2);
    spool.ack(first, 3);
    expect(segmentFiles(dir)).toHaveLength(2); // one line still unacknowledged
    spool.ack(first, 1);
    expect(segmentFiles(dir)).toHaveLength(1);
    // a fully acknowledged active segment is sealed and deleted at once
    spool.ack(third, 1);
    expect(segmentFiles(dir)).toEqual([]);
    expect(spool.bytes).toBe(0);
  });

  it('refuses a batch that would pass the cap, whole, and keeps what it holds', () => {
    const spool = Spool.open({ dir, capBytes: line(0).length * 3 });
    spool.append(lines(0, 2));
    const error = catchError(() => spool.append(lines(2, 2)), SpoolFullError);
    expect(error.data).toEqual({ usedBytes: line(0).length * 2, capBytes: line(0).length * 3 });
    expect(spool.depth).toBe(2);
    expect(spool.readLines(spool.list()[0]?.id ?? -1, 0, 2)).toEqual(lines(0, 2));
  });

  it('quarantines lines beside the spool with their reason', () => {
    const spool = Spool.open({ dir, capBytes: 1 << 20 });
    const path = spool.quarantine(['not json\n', '{"broken\n'], 'not JSON');
    spool.quarantine(['again\n'], 'not JSON');
    expect(path).toBe(join(dir, QUARANTINE_FILE));
    expect(
      readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { reason: 'not JSON', line: 'not json\n' },
      { reason: 'not JSON', line: '{"broken\n' },
      { reason: 'not JSON', line: 'again\n' },
    ]);
  });

  describe('durability calls', () => {
    it('fsyncs the directory after creating each new segment file, and fdatasyncs every append', () => {
      const sync = recordingSync();
      const spool = Spool.open({ dir, capBytes: 1 << 20, segmentMaxBytes: line(0).length, sync });
      const dirIno = statSync(dir).ino;
      spool.append([line(0)]); // fills segment 1 and seals it
      spool.append([line(1)]); // segment 2
      const segmentInos = segmentFiles(dir).map((name) => statSync(join(dir, name)).ino);
      expect(sync.calls).toEqual([
        { op: 'dir', ino: dirIno },
        { op: 'file', ino: segmentInos[0] },
        { op: 'dir', ino: dirIno },
        { op: 'file', ino: segmentInos[1] },
      ]);
    });

    it('fdatasyncs quarantined lines (and the directory, when the file is new) before returning', () => {
      const sync = recordingSync();
      const spool = Spool.open({ dir, capBytes: 1 << 20, sync });
      const path = spool.quarantine(['x\n'], 'not JSON');
      const [file, directory] = [statSync(path).ino, statSync(dir).ino];
      expect(sync.calls).toEqual([
        { op: 'file', ino: file },
        { op: 'dir', ino: directory },
      ]);
      sync.calls.length = 0;
      spool.quarantine(['y\n'], 'not JSON');
      expect(sync.calls).toEqual([{ op: 'file', ino: file }]);
    });

    it('makes no durability call with fsync: false', () => {
      const sync = recordingSync();
      const spool = Spool.open({ dir, capBytes: 1 << 20, fsync: false, sync });
      spool.append([line(0)]);
      spool.quarantine(['x\n'], 'not JSON');
      expect(sync.calls).toEqual([]);
      expect(existsSync(join(dir, QUARANTINE_FILE))).toBe(true);
    });
  });
});
