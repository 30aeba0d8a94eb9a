import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { DataError } from '@btc-etl/errors';
import { sleep } from '@btc-etl/resilience';

export interface MotoServer {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` or set as `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  readonly port: number;
  /** Wipe every bucket, queue and stream (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** No python3 on PATH (or MOTO_PYTHON, or pyenv's shim) can import moto; `tried` lists the ones that exist. */
export class MotoMissingError extends DataError<{ tried: readonly string[] }> {
  constructor(tried: readonly string[]) {
    super(
      `moto is not installed in any python3 (tried ${tried.join(', ') || 'none: no python3 at all'}). ` +
        "Install it with: pip install 'moto[server]==5.2.1' (the CI image ships moto 5.2.1, see shared/REFERENCE.md)",
      { tried },
    );
  }
}

/** A free loopback port, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * The real python binary that has moto. Nx puts the Node binary's folder (/usr/bin) first on PATH, hiding a pyenv
 * python3 behind Debian's, so every python3 on PATH is tried, then pyenv's shim; MOTO_PYTHON overrides. The
 * resolved executable (not a shim) is what we spawn, so stopping it really stops moto.
 */
function pythonExecutable(): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [
    process.env.MOTO_PYTHON,
    ...dirs.map((d) => join(d, 'python3')),
    join(process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'shims', 'python3'),
  ].filter((c): c is string => Boolean(c));
  const tried: string[] = [];
  for (const candidate of [...new Set(candidates)]) {
    if (!existsSync(candidate)) continue;
    tried.push(candidate);
    try {
      return execFileSync(candidate, ['-c', 'import moto, sys; print(sys.executable)'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      // this python has no moto: try the next one
    }
  }
  throw new MotoMissingError(tried);
}

/** Dummy credentials and region, so the SDK's default chain never looks further (no IMDS, no profile). */
export function motoClientEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * Start moto's standalone server on a free loopback port and wait until it answers.
 * @example const moto = await startMoto(); process.env.AWS_ENDPOINT_URL = moto.endpoint; ... await moto.stop();
 */
export async function startMoto(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
  const python = pythonExecutable();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...motoClientEnv(endpoint) },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok || res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto did not start on ${endpoint} in time: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    port,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop() {
      return new Promise<void>((resolveStop) => {
        if (child.exitCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
