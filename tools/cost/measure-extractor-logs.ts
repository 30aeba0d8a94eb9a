// `npx nx run infra:measure-logs` (or: node tools/bundle.mjs --entry tools/cost/measure-extractor-logs.ts --outfile
// dist/tools/measure-extractor-logs.js && node dist/tools/measure-extractor-logs.js [seconds]): run the extractor's
// bundle as the Fargate task runs it (SINK=firehose, METRICS_EMF=true, default log level) against the fake Coinbase
// and moto's Firehose, for a few minutes, and count what it writes to stdout/stderr: the bytes CloudWatch Logs would
// ingest. docs/cost.md takes its log and EMF numbers from this output.
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { motoClientEnv, startFakeCoinbase, startMoto } from '@btc-etl/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// argv: [seconds] [--write <file>]: the result also goes to <file>
// (docs/measurements/extractor-logs.json, read by infra:cost)
const args = process.argv.slice(2);
const writeAt = args.indexOf('--write');
const outFile = writeAt >= 0 ? args[writeAt + 1] : undefined;
const seconds = Number(args.find((a, i) => i !== writeAt + 1 && !a.startsWith('--')) ?? 300);
if (!Number.isInteger(seconds) || seconds < 60) throw new Error('seconds: a whole number >= 60 (one EMF interval)');
const bundle = resolve('dist/apps/extractor/main.js');
if (!existsSync(bundle)) throw new Error(`${bundle} missing: run \`npx nx run extractor:build\``);

const moto = await startMoto();
const coinbase = await startFakeCoinbase();
const spool = mkdtempSync(join(tmpdir(), 'measure-logs-spool-'));
try {
  const env = motoClientEnv(moto.endpoint);
  Object.assign(process.env, env); // this script's own SDK clients: dummy credentials, never a real account
  const clientConfig = { endpoint: moto.endpoint, region: env.AWS_REGION, forcePathStyle: true };
  await new S3Client(clientConfig).send(new CreateBucketCommand({ Bucket: 'measure-raw' }));
  await new FirehoseClient(clientConfig).send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'measure-ticks',
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        BucketARN: 'arn:aws:s3:::measure-raw',
        RoleARN: 'arn:aws:iam::123456789012:role/firehose',
        Prefix: 'raw/',
      },
    }),
  );

  // the container's environment (infra/src/stacks/extractor.stack.ts), pointed at the fakes
  const child = spawn(process.execPath, [bundle], {
    env: {
      ...process.env,
      ...env,
      SINK: 'firehose',
      FIREHOSE_STREAM_NAME: 'measure-ticks',
      SPOOL_DIR: spool,
      METRICS_EMF: 'true',
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      COINBASE_EXCHANGE_URL: coinbase.exchangeUrl,
      COINBASE_API_URL: coinbase.apiUrl,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const count = { stdoutBytes: 0, stderrBytes: 0, lines: 0, emfLines: 0, emfBytes: 0 };
  const messages = new Map<string, { lines: number; bytes: number }>();
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    count.stdoutBytes += chunk.length;
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      count.lines++;
      const bytes = Buffer.byteLength(line) + 1;
      if (line.includes('"_aws"')) {
        count.emfLines++;
        count.emfBytes += bytes;
        continue;
      }
      let msg = '(not JSON)';
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? '(no msg)');
      } catch {
        // counted as not JSON
      }
      const m = messages.get(msg) ?? { lines: 0, bytes: 0 };
      messages.set(msg, { lines: m.lines + 1, bytes: m.bytes + bytes });
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    count.stderrBytes += chunk.length;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const started = Date.now();
  // A measurement, not a test: the run lasts as long as asked.
  await new Promise((done) => setTimeout(done, seconds * 1000));
  child.kill('SIGTERM');
  const code = await exited;
  const ranS = (Date.now() - started) / 1000;
  const perHour = (n: number) => Math.round((n / ranS) * 3600);
  const requests = coinbase.requests.length;
  const result = JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      command: `npx nx run infra:measure-logs -- ${seconds}`,
      node: process.version,
      ranSeconds: Math.round(ranS),
      exitCode: code,
      coinbaseRequests: requests,
      ...count,
      stdoutBytesPerHour: perHour(count.stdoutBytes + count.stderrBytes),
      emfBytesPerHour: perHour(count.emfBytes),
      otherBytesPerHour: perHour(count.stdoutBytes + count.stderrBytes - count.emfBytes),
      messages: Object.fromEntries(messages),
    },
    null,
    2,
  );
  console.log(result);
  if (outFile) writeFileSync(outFile, `${result}\n`);
} finally {
  rmSync(spool, { recursive: true, force: true });
  await coinbase.stop();
  await moto.stop();
}
