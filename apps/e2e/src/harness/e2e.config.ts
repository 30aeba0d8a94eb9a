import { z } from 'zod';

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  /** `1`: the documented long mode (a 60 s Firehose outage, longer runs). */
  E2E_LONG: z.enum(['0', '1']).default('0'),
  /** How long the extractor runs in each scenario. */
  E2E_SECONDS: seconds(5, 600).optional(),
  /** Length of the Firehose outage scenario. */
  E2E_OUTAGE_S: seconds(2, 900).optional(),
});

export interface E2eConfig {
  long: boolean;
  scenarioSeconds: number;
  outageSeconds: number;
}

/**
 * The suite's timings, validated once: short by default so the whole suite fits the CI budget on 2 cores
 * (scenarios of ~10-20 s), `E2E_LONG=1` for the issue's one-minute outage. A bad value names the variable.
 */
export function loadE2eConfig(env: Record<string, string | undefined> = process.env): E2eConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => k.startsWith('E2E_') && v !== undefined && v !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `e2e: invalid ${String(issue?.path[0] ?? 'E2E_*')}=${JSON.stringify(present[String(issue?.path[0])])}: ` +
        `${issue?.message}`,
    );
  }
  const long = parsed.data.E2E_LONG === '1';
  return {
    long,
    scenarioSeconds: parsed.data.E2E_SECONDS ?? (long ? 30 : 12),
    outageSeconds: parsed.data.E2E_OUTAGE_S ?? (long ? 60 : 15),
  };
}

/** moto's endpoint, started once for the suite by the moto global setup (vitest.config.ts: `moto: true`). */
export function motoEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint)
    throw new Error('AWS_ENDPOINT_URL is not set: run the e2e suite through its vitest config (npx nx run e2e:test)');
  return endpoint;
}
