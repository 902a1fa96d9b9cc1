import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { DjbError } from '../core/errors.js';
import { RECIPE_SCHEMA } from './schema.js';
import type { RecipeFileData } from './schema.js';

/**
 * Checks parsed recipe JSON against the schema and the rules a schema cannot
 * express. Throws E_RECIPE as `FILE: FIELD: problem`, naming the first fault.
 */
export function validateRecipe(file: string, data: unknown, expectedName: string): RecipeFileData {
  const ajv = new Ajv({ allErrors: false, strict: true });
  const check = ajv.compile<RecipeFileData>(RECIPE_SCHEMA);
  if (!check(data)) {
    const first = check.errors?.[0];
    throw recipeError(file, first ? fieldOf(first) : '(recipe)', first ? problemOf(first) : 'invalid');
  }
  if (data.name !== expectedName) {
    throw recipeError(file, 'name', `is "${data.name}" but the file is named ${expectedName}.json`);
  }
  for (const [version, v] of Object.entries(data.versions)) {
    const at = `versions.${version}`;
    if (v.build === 'classic') {
      if (!v.commands) throw recipeError(file, `${at}.commands`, 'missing (a classic build names the programs that go into command/)');
      if (v.builds?.includes('ts')) throw recipeError(file, `${at}.builds`, 'a classic build has no TypeScript runtime; only native');
    } else if (v.top !== undefined || v.commands !== undefined) {
      throw recipeError(file, `${at}.${v.top !== undefined ? 'top' : 'commands'}`, 'only for a classic build (a slashpackage tree has CATEGORY/NAME-VERSION and package/commands)');
    }
    for (const r of v.requires ?? []) {
      if (r.split('@')[0] === data.name) throw recipeError(file, `${at}.requires`, `${data.name} cannot require itself`);
    }
  }
  return data;
}

export function recipeError(file: string, field: string, problem: string): DjbError {
  return new DjbError('E_RECIPE', `${file}: ${field}: ${problem}`);
}

function fieldOf(err: ErrorObject): string {
  const parts = err.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = err.params as Record<string, unknown>;
  if (err.keyword === 'required') parts.push(String(p.missingProperty));
  if (err.keyword === 'additionalProperties') parts.push(String(p.additionalProperty));
  if (err.keyword === 'propertyNames' || err.keyword === 'pattern') {
    if (typeof p.propertyName === 'string') parts.push(p.propertyName);
  }
  return parts.length ? parts.join('.') : '(top level)';
}

function problemOf(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return 'missing';
    case 'additionalProperties':
      return 'unknown field';
    case 'propertyNames':
      return 'bad name';
    case 'pattern':
      return typeof p.propertyName === 'string' ? 'bad name' : `bad value (must match ${String(p.pattern)})`;
    case 'type':
      return `must be ${String(p.type)}`;
    default:
      return err.message ?? err.keyword;
  }
}
