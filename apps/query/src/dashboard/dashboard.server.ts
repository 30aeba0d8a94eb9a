import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { QueryInputError } from '../query.errors';
import type { Logger } from '../logger';
import { dashboardData, parseDashboardRequest, type DashboardData, type RunNamed } from './dashboard.api';
import { DashboardBusyError } from './dashboard.errors';
import { ResultCache, type ResultCacheOptions } from './result.cache';
import { WorkLimiter, type WorkLimits } from './work.limiter';

export interface DashboardServerOptions {
  /** Folder with index.html, dashboard.js (the bundled client) and dashboard.css. */
  publicDir: string;
  run: RunNamed;
  /** Seconds between the page's refreshes. */
  refreshS: number;
  now?: () => number;
  logger?: Logger;
  /** Each answer is served again for `ttlMs` to any client asking the same (default 2 s, 256 answers kept). */
  cache?: Partial<ResultCacheOptions>;
  /** Answers computed at once and waiting (default 2 and 8; beyond: 503 with Retry-After). */
  limits?: Partial<WorkLimits>;
}

export const DEFAULT_CACHE: ResultCacheOptions = { ttlMs: 2_000, maxEntries: 256 };
export const DEFAULT_LIMITS: WorkLimits = { maxRunning: 2, maxQueued: 8, retryAfterS: 2 };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};
const STATIC = new Set(['/index.html', '/dashboard.js', '/dashboard.js.map', '/dashboard.css']);

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
const json = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/**
 * The dashboard: static page and client bundle, plus `GET /api/dashboard?product=&interval=` answering from the
 * query definitions (bad parameters: 400 naming the parameter). No CDN: everything is served from here.
 *
 * Safe to bind to 0.0.0.0: identical requests within the cache's TTL share one answer (and one computation while it
 * runs), the answers kept are bounded (LRU), the computations running and waiting are bounded (else 503 with
 * Retry-After), and a 500 names a request id, never the internal error (logged with that id).
 */
export function createDashboardServer(options: DashboardServerOptions): Server {
  const now = options.now ?? Date.now;
  const cache = new ResultCache<DashboardData>({ ...DEFAULT_CACHE, ...options.cache });
  const limiter = new WorkLimiter({ ...DEFAULT_LIMITS, ...options.limits });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'only GET' });
    if (url.pathname === '/api/dashboard') {
      try {
        const request = parseDashboardRequest(url.searchParams);
        const key = `${request.product}\u0000${request.interval}`;
        return json(
          res,
          200,
          await cache.get(key, () => limiter.run(() => dashboardData(request, now(), options.run))),
        );
      } catch (error) {
        if (error instanceof QueryInputError) return json(res, 400, { error: error.message, field: error.data.field });
        if (error instanceof DashboardBusyError) {
          res.setHeader('retry-after', String(error.data.retryAfterS));
          return json(res, 503, { error: error.message });
        }
        throw error;
      }
    }
    if (url.pathname === '/api/config') return json(res, 200, { refreshS: options.refreshS });
    if (url.pathname === '/healthz') return json(res, 200, { ok: true });
    const path = url.pathname === '/' ? '/index.html' : url.pathname;
    if (!STATIC.has(path)) return json(res, 404, { error: `no such page: ${url.pathname}` });
    const body = await readFile(join(options.publicDir, path.slice(1)));
    return send(res, 200, TYPES[extname(path)] ?? 'application/octet-stream', body);
  };
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // the detail stays in the log; the client gets an id to quote
      const requestId = randomUUID();
      options.logger?.error({ err: error, url: req.url, requestId }, 'dashboard request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error', requestId });
      else res.destroy();
    });
  });
}
