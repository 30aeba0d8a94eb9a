// A stand-in for S3's network round trip in front of moto, for the bench only: every request waits a random
// 15-30 ms (configurable) before it is forwarded, so a sequential loop pays one round trip per request and the
// handler's concurrency can overlap them, as against S3 from a Lambda in the same region. moto on loopback answers
// in ~1-5 ms of its own CPU, which makes the raw-moto comparison a contest for moto's single Python process instead.
//
// Run as a child process (its own event loop, so its work does not slow the process being measured):
//   node --import tsx apps/backup-lambda/bench/s3-latency.proxy.ts --target http://127.0.0.1:PORT \
//     [--min-ms 15] [--max-ms 30]
// It prints `listening <port>` once ready. `GET /__proxy/stats` answers the requests forwarded so far by method
// (and resets the counts with `?reset=1`); S3 bucket names cannot contain `_`, so the path never shadows a bucket.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    'min-ms': { type: 'string', default: '15' },
    'max-ms': { type: 'string', default: '30' },
  },
});
const minMs = Number(values['min-ms']);
const maxMs = Number(values['max-ms']);
if (!values.target || !Number.isFinite(minMs) || !Number.isFinite(maxMs) || minMs < 0 || maxMs < minMs) {
  console.error('usage: s3-latency.proxy.ts --target http://host:port [--min-ms 15] [--max-ms 30] (0 <= min <= max)');
  process.exit(2);
}
const target = new URL(values.target);
// Keep-alive to moto with no socket cap: the proxy must not become the bottleneck it is meant to model away.
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const counts = new Map<string, number>();

const server = createServer((req, res) => {
  if (req.url?.startsWith('/__proxy/stats')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(counts)));
    if (req.url.includes('reset=1')) counts.clear();
    return;
  }
  const method = req.method ?? 'GET';
  const kind = method === 'PUT' && req.headers['x-amz-copy-source'] ? 'COPY' : method;
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const delay = minMs + Math.random() * (maxMs - minMs);
  // The body is paused until the delay is over and then streamed through, so large uploads are not buffered here.
  req.pause();
  setTimeout(() => {
    const upstream = request(
      { host: target.hostname, port: target.port, method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`latency proxy: upstream failed: ${error.message}`);
    });
    req.pipe(upstream);
    req.resume();
  }, delay);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
