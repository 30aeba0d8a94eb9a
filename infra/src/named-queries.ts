import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { requireAsset } from './assets';
import { InfraNamedQueriesError } from './infra.errors';

/**
 * The layers a query app named query reads (apps/query `--layer`): `auto` silver + raw past the compactor's
 * watermark, `raw` or `silver` alone.
 */
export const NAMED_QUERY_LAYERS = ['auto', 'raw', 'silver'] as const;

// Athena's own limits on CreateNamedQuery, checked at synth time so a bad file fails before deploy.
const NamedQuerySchema = z.strictObject({
  name: z.string().min(1).max(128),
  description: z.string().min(1).max(1024),
  layer: z.enum(NAMED_QUERY_LAYERS),
  sql: z.string().min(1).max(262_144),
});
const NamedQueriesSchema = z
  .array(NamedQuerySchema)
  .min(1, 'expected at least one query')
  .refine((qs) => new Set(qs.map((q) => q.name)).size === qs.length, 'query names must be unique');

/** One saved Athena query, as the query app writes them (apps/query/src/queries/athena-named-queries.ts). */
export type NamedQuery = z.infer<typeof NamedQuerySchema>;

/**
 * The query app's named queries, which its build (`query:build`) writes to `path`
 * (dist/apps/query/named-queries.json). Infra has no queries of its own: one definition per query lives in the app.
 * @throws InfraAssetMissingError when the file is missing (naming the build that writes it)
 * @throws InfraNamedQueriesError when it is not valid JSON of `{ name, description, layer, sql }[]`
 */
export function loadNamedQueries(path: string): NamedQuery[] {
  requireAsset("the query app's named queries", path, 'build them with `npx nx run query:build`');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InfraNamedQueriesError(path, 'not JSON', { cause: error });
  }
  const parsed = NamedQueriesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InfraNamedQueriesError(path, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
