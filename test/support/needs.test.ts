import { describe, expect, it } from 'vitest';
import { itNeeds, needsName } from './needs.js';

describe('itNeeds', () => {
  it('keeps the name when the condition holds and appends the reason when it does not', () => {
    expect(needsName(true, 'needs root', 'mounts a tmpfs')).toBe('mounts a tmpfs');
    expect(needsName(false, 'needs root', 'mounts a tmpfs')).toBe('mounts a tmpfs (skipped: needs root)');
    expect(needsName(undefined, 'DJBPKG_REAL_TREE is not set', 'x')).toBe('x (skipped: DJBPKG_REAL_TREE is not set)');
  });

  let ran = false;
  itNeeds(true, 'always there')('runs its body when the condition holds', () => {
    ran = true;
    expect(ran).toBe(true);
  });
  itNeeds(false, 'never there')('does not run its body when the condition fails', () => {
    throw new Error('a skipped body ran');
  });
});
