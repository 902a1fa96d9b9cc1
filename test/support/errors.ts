import { expect } from 'vitest';
import { DjbError } from '../../src/core/errors.js';

/** The DjbError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<DjbError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DjbError);
  return err as DjbError;
}
