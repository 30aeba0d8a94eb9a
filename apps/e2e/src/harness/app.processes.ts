import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { motoClientEnv } from '@btc-etl/testing';

/** The workspace root (apps/e2e/src/harness -> four levels up). */
export const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The built artefacts a user runs: what `extractor:build`, `backup-lambda:build` and `query:build` produce. */
export const BUNDLES = {
  extractor: resolve(WORKSPACE_ROOT, 'dist/apps/extractor/main.js'),
  backupRunner: resolve(WORKSPACE_ROOT, 'dist/apps/backup-lambda/serve.mjs'),
  reconcile: resolve(WORKSPACE_ROOT, 'dist/apps/backup-lambda/reconcile.mjs'),
  query: resolve(WORKSPACE_ROOT, 'dist/apps/query/main.js'),
  compactor: resolve(WORKSPACE_ROOT, 'dist/apps/compactor/main.js'),
} as const;

/** Fail early, with the command that fixes it, when a bundle is missing (the test target builds them first). */
export function assertBundlesBuilt(): void {
  const missing = Object.values(BUNDLES).filter((b) => !existsSync(b));
  if (missing.length > 0) {
    throw new Error(
      `missing builds: ${missing.join(', ')}: run npx nx run e2e:test ` +
        `(it builds extractor, backup-lambda, query and compactor first)`,
    );
  }
}

/** Only what a process needs: no inherited DATA_DIR, AWS profile or endpoint from the developer's shell. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', FORCE_COLOR: '0' };
}

/** Env for an app talking to moto (dummy credentials, region, the endpoint). */
export function awsEnv(motoEndpoint: string): Record<string, string> {
  return motoClientEnv(motoEndpoint);
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** A running app: its output (stdout and stderr interleaved), JSON log lines, and how to stop it. */
export interface AppProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly exited: Promise<ExitInfo>;
  output(): string;
  /** Log lines that parsed as JSON objects (pino and Powertools both log one object per line). */
  logs(): Record<string, unknown>[];
  /** Resolve with the first JSON log line matching, or reject after `timeoutMs` (or when the process exits). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<ExitInfo>;
  kill(signal: NodeJS.Signals): void;
}

export function startApp(
  name: string,
  bundle: string,
  env: Record<string, string>,
  options: { cwd?: string; args?: string[] } = {},
): AppProcess {
  const child = spawn(process.execPath, [bundle, ...(options.args ?? [])], {
    cwd: options.cwd ?? WORKSPACE_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let partial = '';
  const json: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const s = chunk.toString();
    text += s;
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        json.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line that only looks like JSON: kept in output()
      }
    }
    for (const wake of [...waiters]) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<ExitInfo>((resolveExit) =>
    child.once('exit', (code, signal) => {
      resolveExit({ code, signal, at: Date.now() });
      for (const wake of [...waiters]) wake();
    }),
  );
  const app: AppProcess = {
    name,
    child,
    startedAt: Date.now(),
    exited,
    output: () => text,
    logs: () => json,
    // 90 s catches a process that never logs the line; a start under load takes seconds, never that long
    waitForLog(match, timeoutMs = 90_000) {
      return new Promise((resolveLog, reject) => {
        const check = () => {
          const found = json.find(match);
          if (found) {
            done();
            resolveLog(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${name} exited before the expected log line:\n${text.slice(-3000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: expected log line did not appear within ${timeoutMs} ms:\n${text.slice(-3000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 12_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const info = await exited;
        clearTimeout(timer);
        return info;
      }
      return exited;
    },
    kill(signal) {
      child.kill(signal);
    },
  };
  return app;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run a CLI bundle to completion. */
export function runCli(
  bundle: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], {
      cwd: options.cwd ?? WORKSPACE_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${bundle} ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms:\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Metrics of the extractor's ops server (Prometheus text), parsed to `name{labels} -> value`. */
export async function scrapeMetrics(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return parsePrometheus(await res.text());
}

/** Prometheus text exposition format -> `name{sorted labels}` -> value (comments skipped). */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = (m[3] ?? '')
      .split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(labels ? `${m[1]}{${labels}}` : (m[1] ?? ''), Number(m[4]));
  }
  return out;
}

/** Sum of every series of a metric whose labels include all of `where` (`key="value"` pairs). */
export function metricSum(
  metrics: ReadonlyMap<string, number>,
  name: string,
  where: Record<string, string> = {},
): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    const base = series.split('{')[0];
    if (base !== name) continue;
    if (Object.entries(where).every(([k, v]) => series.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}
