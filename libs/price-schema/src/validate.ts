import type { z } from 'zod';
import { InvalidPriceTickError, type LineIssue } from './price-schema.errors';
import { PriceTickSchema, type PriceTick } from './price-tick.schema';

export function toLineIssues(error: z.ZodError): LineIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

/** Validate anything against the price record schema, throwing an error that names every bad field. */
export function parsePriceTick(value: unknown): PriceTick {
  const result = PriceTickSchema.safeParse(value);
  if (!result.success) throw new InvalidPriceTickError(toLineIssues(result.error));
  return result.data;
}

export function isPriceTick(value: unknown): value is PriceTick {
  return PriceTickSchema.safeParse(value).success;
}
