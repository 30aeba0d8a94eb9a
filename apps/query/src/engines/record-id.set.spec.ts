import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordIdSet } from './record-id.set';

const id = (i: number) => createHash('sha256').update(String(i)).digest('hex').slice(0, 32);

describe('RecordIdSet', () => {
  it('says whether an id is new, across growth', () => {
    const set = new RecordIdSet(4);
    for (let i = 0; i < 5000; i++) expect(set.add(id(i))).toBe(true);
    for (let i = 0; i < 5000; i += 7) expect(set.add(id(i))).toBe(false);
    expect(set.size).toBe(5000);
  });

  it('keeps the all-zero id apart from empty slots', () => {
    const set = new RecordIdSet();
    expect(set.add('0'.repeat(32))).toBe(true);
    expect(set.add('0'.repeat(32))).toBe(false);
    expect(set.add(`${'0'.repeat(31)}1`)).toBe(true);
    expect(set.size).toBe(2);
  });
});
