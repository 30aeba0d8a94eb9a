import { describe, expect, it } from 'vitest';
import { parseCli, USAGE } from '../cli/cli.args';
import { ATHENA_NAMED_QUERIES } from './athena-named-queries';
import { QUERIES, QUERY_NAMES } from './query.registry';
import type { QueryDefinition, ResultRow } from './query.types';

const definitions = QUERY_NAMES.map((name) => [name, QUERIES[name] as QueryDefinition<unknown, ResultRow>] as const);
const NOW = Date.parse('2026-11-27T12:00:00.700Z');
const argsOf = (example: Readonly<Record<string, string>>) =>
  Object.entries(example).flatMap(([flag, value]) => [`--${flag}`, value]);

// Every query is defined once: what the CLI, --help and the named queries show comes from its definition.
describe.each(definitions)('query %s', (name, definition) => {
  it('is registered under its own name and says what it does', () => {
    expect(definition.name).toBe(name);
    expect(definition.usage.length).toBeGreaterThan(10);
    expect(definition.description.length).toBeGreaterThan(definition.usage.length);
    expect(definition.defaultSpanS).toBeGreaterThan(0);
    expect(Object.keys(definition.example).length).toBeGreaterThan(0);
  });

  it('has flags with distinct names that the schema knows', () => {
    const names = definition.flags.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    // each flag fills the parameter of its name: the parsed example carries every flag it gave
    const parsed = definition.params.parse(definition.example) as Record<string, unknown>;
    for (const flag of Object.keys(definition.example)) {
      expect(names).toContain(flag);
      expect(parsed).toHaveProperty(flag);
    }
  });

  it('parses its example through its own flags to what its schema makes of it', () => {
    const command = parseCli([name, ...argsOf(definition.example)], NOW);
    expect(command).toEqual({
      kind: 'query',
      query: name,
      params: definition.params.parse(definition.example),
      engine: 'local',
      format: 'table',
    });
  });

  it('runs with only its required flags, the rest from defaults (from = to - default span)', () => {
    const required = definition.flags.filter((f) => f.required).map((f) => f.name);
    const command = parseCli(
      [name, ...argsOf(Object.fromEntries(required.map((f) => [f, definition.example[f] ?? ''])))],
      NOW,
    );
    expect(command.kind).toBe('query');
    const params = (command as { params: { from: number; to: number } }).params;
    expect(params.to).toBe(Math.floor(NOW / 1000));
    expect(params.to - params.from).toBe(definition.defaultSpanS);
  });

  it('appears in --help with its flags and example, and as named queries', () => {
    expect(USAGE).toContain(`  ${name.padEnd(14)}${definition.usage}`);
    expect(USAGE).toContain(`  ${[name, ...argsOf(definition.example)].join(' ')}\n`);
    for (const flag of definition.flags) expect(USAGE).toContain(`--${flag.name} ${flag.value}`);
    const named = ATHENA_NAMED_QUERIES.filter(
      (q) => q.name === `btc-etl-${name}` || q.name.startsWith(`btc-etl-${name}-`),
    );
    expect(named.map((q) => q.layer).sort()).toEqual(['auto', 'raw', 'silver']);
  });
});

describe('the query flags', () => {
  it('refuse a flag of another query, naming it', () => {
    // --interval belongs to ohlc only
    const withInterval = definitions.filter(([, d]) => !d.flags.some((f) => f.name === 'interval'));
    expect(withInterval.length).toBeGreaterThan(0);
    for (const [name, definition] of withInterval) {
      expect(() => parseCli([name, ...argsOf(definition.example), '--interval', '1m'], NOW)).toThrow(
        `--interval: not a flag of ${name}`,
      );
    }
  });
});
