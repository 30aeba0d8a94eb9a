import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { SpoolCorruptError, SpoolFullError } from '../extractor.errors';

/**
 * The durability calls the spool makes, behind one seam so a test can see each one happen (and in which order).
 */
export interface SpoolSync {
  /** Flush a file's data to stable storage (fdatasync). */
  file(fd: number): void;
  /** Make a directory's entries durable (fsync on the directory), so a file just created survives a power cut. */
  dir(path: string): void;
}

/** Filesystems that cannot fsync a directory answer one of these: there is nothing more to do on them. */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP']);

/** The real calls: fdatasync for data, fsync on an open directory for its entries (ext4, xfs, NFSv4 COMMIT). */
export const diskSync: SpoolSync = {
  file: (fd) => fdatasyncSync(fd),
  dir: (path) => {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      fsyncSync(fd);
    } catch (error) {
      if (!DIR_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  },
};

/** No durability calls at all (`fsync: false`: tests and benches that measure something else). */
const noSync: SpoolSync = { file: () => undefined, dir: () => undefined };

export interface SpoolWarning {
  /** Fill ratio just crossed upwards: 0.5, 0.8, 0.95 or 1. */
  threshold: number;
  usedBytes: number;
  capBytes: number;
}

export interface SpoolOptions {
  dir: string;
  /**
   * Disk cap for unacknowledged ticks. Appends that would pass it are refused (SpoolFullError);
   * nothing held is dropped.
   */
  capBytes: number;
  /** A segment is sealed (and a new one started) once it holds this many bytes. Default 4 MiB. */
  segmentMaxBytes?: number;
  /**
   * Durability (default true): fdatasync after every append and quarantine, and an fsync of the directory after a
   * segment file is created, so a batch survives a power cut, not only a process kill. `false` skips every one.
   */
  fsync?: boolean;
  /** The durability calls themselves (default {@link diskSync}); a test passes a recording one. */
  sync?: SpoolSync;
  onWarning?: (warning: SpoolWarning) => void;
  /** A truncated last line found at start-up (the process died mid-write): it is cut off, and reported here. */
  onRepair?: (info: { path: string; droppedBytes: number }) => void;
}

export interface SegmentState {
  readonly id: number;
  readonly path: string;
  /** Complete lines in the file. */
  count: number;
  acked: number;
  bytes: number;
  sealed: boolean;
}

const SEGMENT = /^segment-(\d{12})\.ndjson$/;
/** Lines the sink can never take, kept for a human beside the segments. */
export const QUARANTINE_FILE = 'quarantine.ndjson';
const THRESHOLDS = [0.5, 0.8, 0.95, 1] as const;

/**
 * The on-disk spool: append-only NDJSON segment files holding every accepted tick until the sink acknowledges it.
 * Writes are synchronous (a `kill -9` right after `append` returns loses nothing; fdatasync makes it survive a power
 * cut too), segments are deleted once sealed and fully acknowledged, and segments left by an earlier run are
 * registered at `open` for replay.
 */
export class Spool {
  private readonly segments = new Map<number, SegmentState>();
  private active: SegmentState | undefined;
  private fd: number | undefined;
  private nextId = 1;
  private usedBytes = 0;
  private warned = 0;
  private readonly segmentMaxBytes: number;
  private readonly sync: SpoolSync;

  private constructor(private readonly options: SpoolOptions) {
    this.segmentMaxBytes = options.segmentMaxBytes ?? 4 * 1024 * 1024;
    this.sync = options.fsync === false ? noSync : (options.sync ?? diskSync);
  }

  /** Open (or create) a spool directory; segments from an earlier run become sealed, unacknowledged segments. */
  static open(options: SpoolOptions): Spool {
    const spool = new Spool(options);
    mkdirSync(options.dir, { recursive: true });
    const ids = readdirSync(options.dir)
      .map((name) => SEGMENT.exec(name)?.[1])
      .filter((id): id is string => id !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const id of ids) spool.recover(id);
    spool.nextId = (ids.at(-1) ?? 0) + 1;
    return spool;
  }

  private pathOf(id: number): string {
    return join(this.options.dir, `segment-${String(id).padStart(12, '0')}.ndjson`);
  }

  private recover(id: number): void {
    const path = this.pathOf(id);
    const bytes = readFileSync(path);
    const end = bytes.lastIndexOf(0x0a) + 1;
    if (end < bytes.length) {
      // The process died inside a write: the tail is a partial line that was never acknowledged to anyone.
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, end);
        this.sync.file(fd);
      } finally {
        closeSync(fd);
      }
      this.options.onRepair?.({ path, droppedBytes: bytes.length - end });
    }
    let count = 0;
    for (let i = bytes.indexOf(0x0a); i !== -1 && i < end; i = bytes.indexOf(0x0a, i + 1)) count++;
    if (count === 0) {
      unlinkSync(path);
      return;
    }
    this.segments.set(id, { id, path, count, acked: 0, bytes: end, sealed: true });
    this.usedBytes += end;
  }

  /** Bytes on disk held for unacknowledged ticks. */
  get bytes(): number {
    return this.usedBytes;
  }

  get capBytes(): number {
    return this.options.capBytes;
  }

  /** Ticks in the spool not yet acknowledged. */
  get depth(): number {
    let depth = 0;
    for (const s of this.segments.values()) depth += s.count - s.acked;
    return depth;
  }

  /** Segments oldest first (a snapshot). */
  list(): SegmentState[] {
    return [...this.segments.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): SegmentState | undefined {
    return this.segments.get(id);
  }

  /**
   * Append newline-terminated lines as one synchronous write (and fdatasync). All go to one segment, whose id is
   * returned. Throws SpoolFullError, accepting none of them, when they would pass the cap.
   */
  append(lines: readonly string[], byteLength?: number): number {
    if (lines.length === 0) throw new RangeError('append needs at least one line');
    const chunk = Buffer.from(lines.length === 1 ? (lines[0] as string) : lines.join(''), 'utf8');
    const size = byteLength ?? chunk.length;
    if (this.usedBytes + size > this.options.capBytes) {
      this.checkFill(true);
      throw new SpoolFullError(this.usedBytes, this.options.capBytes);
    }
    const segment = this.writable();
    let offset = 0;
    while (offset < chunk.length) offset += writeSync(this.fd as number, chunk, offset);
    this.sync.file(this.fd as number);
    segment.count += lines.length;
    segment.bytes += chunk.length;
    this.usedBytes += chunk.length;
    if (segment.bytes >= this.segmentMaxBytes) this.seal();
    this.checkFill(false);
    return segment.id;
  }

  private writable(): SegmentState {
    if (this.active) return this.active;
    const id = this.nextId++;
    const path = this.pathOf(id);
    this.fd = openSync(path, 'a');
    // The new file's name lives in the directory: without this a power cut can lose the whole segment even though
    // its data was fdatasynced.
    this.sync.dir(this.options.dir);
    this.active = { id, path, count: 0, acked: 0, bytes: 0, sealed: false };
    this.segments.set(id, this.active);
    return this.active;
  }

  /** Close the active segment so it can be deleted once acknowledged; the next append starts a new one. */
  seal(): void {
    if (!this.active) return;
    closeSync(this.fd as number);
    this.fd = undefined;
    const sealed = this.active;
    sealed.sealed = true;
    this.active = undefined;
    this.collect(sealed);
  }

  /** `n` lines of a segment reached the sink's destination. */
  ack(id: number, n: number): void {
    const segment = this.segments.get(id);
    if (!segment) return; // already collected: a duplicate acknowledgement
    segment.acked = Math.min(segment.count, segment.acked + n);
    // A fully acknowledged active segment is sealed at once: after a crash only unacknowledged ticks are replayed,
    // not hours of a slowly filling segment.
    if (segment === this.active && segment.acked === segment.count) return this.seal();
    this.collect(segment);
  }

  private collect(segment: SegmentState): void {
    if (!segment.sealed || segment.acked < segment.count) return;
    unlinkSync(segment.path);
    this.segments.delete(segment.id);
    this.usedBytes -= segment.bytes;
    this.checkFill(false);
  }

  /** Lines `[from, to)` of a segment, read back from disk (for replay and for a sink that fell behind). */
  readLines(id: number, from: number, to: number): string[] {
    const segment = this.segments.get(id);
    if (!segment) throw new SpoolCorruptError(this.pathOf(id), 'no such segment');
    const text = readFileSync(segment.path, 'utf8');
    const out: string[] = [];
    let start = 0;
    for (let line = 0; line < to; line++) {
      const end = text.indexOf('\n', start);
      if (end === -1) throw new SpoolCorruptError(segment.path, `has ${line} lines, ${to} expected`);
      if (line >= from) out.push(text.slice(start, end + 1));
      start = end + 1;
    }
    return out;
  }

  /**
   * Keep lines that cannot be sent (not JSON) beside the spool instead of deleting them: appended to
   * `quarantine.ndjson` and fdatasynced (the directory too when the file is new) before this returns, so the caller
   * may acknowledge them in their segment.
   */
  quarantine(lines: readonly string[], reason: string): string {
    const path = join(this.options.dir, QUARANTINE_FILE);
    const created = !existsSync(path);
    const fd = openSync(path, 'a');
    try {
      const chunk = Buffer.from(lines.map((line) => `${JSON.stringify({ reason, line })}\n`).join(''), 'utf8');
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset);
      this.sync.file(fd);
    } finally {
      closeSync(fd);
    }
    if (created) this.sync.dir(this.options.dir);
    return path;
  }

  private checkFill(full: boolean): void {
    const ratio = full ? 1 : this.usedBytes / this.options.capBytes;
    let level = 0;
    for (const t of THRESHOLDS) if (ratio >= t) level = t;
    if (level > this.warned) {
      this.warned = level;
      this.options.onWarning?.({ threshold: level, usedBytes: this.usedBytes, capBytes: this.options.capBytes });
    } else if (level < this.warned) {
      this.warned = level; // drained below: warn again if it fills up again
    }
  }

  /** Close the active segment file (the spool stays on disk for the next run). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.active) this.active.sealed = true;
    this.active = undefined;
  }
}
