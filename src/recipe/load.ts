import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DjbError, describeCause } from '../core/errors.js';
import type { RecipeFileData } from './schema.js';
import { recipeError, validateRecipe } from './validate.js';

/** One validated recipe file and where it was found. */
export interface LoadedRecipe {
  file: string;
  data: RecipeFileData;
}

/** Reads, parses and validates one recipe file. Missing file: undefined. */
export async function loadRecipeFile(file: string): Promise<LoadedRecipe | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DjbError('E_IO', `unable to read recipe ${file}: ${describeCause(err)}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw recipeError(file, '(JSON)', `not valid JSON: ${describeCause(err)}`);
  }
  return { file, data: validateRecipe(file, parsed, path.basename(file, '.json')) };
}

/** The recipe names present in one directory (`NAME.json`), sorted; none if it is missing. */
export async function recipeNamesIn(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new DjbError('E_IO', `unable to read recipe directory ${dir}: ${describeCause(err)}`, { cause: err });
  }
  return entries
    .filter((e) => e.endsWith('.json') && !e.startsWith('.'))
    .map((e) => e.slice(0, -'.json'.length))
    .sort();
}
