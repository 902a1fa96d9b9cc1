/**
 * JSON Schema of a recipe file (`recipes/NAME.json`). Unknown fields are
 * refused so that a misspelt field is an error, not a silent default; add a
 * field here when a recipe needs one.
 */
export const RECIPE_SCHEMA = {
  type: 'object',
  required: ['name', 'category', 'versions'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._+-]*$' },
    category: { type: 'string', pattern: '^[a-z0-9][a-z0-9._+-]*$' },
    description: { type: 'string' },
    homepage: { type: 'string', pattern: '^https?://' },
    versions: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: '^[0-9][0-9A-Za-z.+-]*$' },
      additionalProperties: {
        type: 'object',
        required: ['distfile', 'urls', 'md5', 'build'],
        additionalProperties: false,
        properties: {
          distfile: { type: 'string', pattern: '^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$' },
          urls: {
            type: 'array',
            minItems: 1,
            items: { type: 'string', pattern: '^https?://[^\\s/]+/\\S*$' },
          },
          size: { type: 'integer', minimum: 1 },
          md5: { type: 'string', pattern: '^[0-9a-f]{32}$' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          build: { type: 'string', enum: ['slashpackage', 'classic'] },
          builds: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['ts', 'native'] } },
          top: { type: 'string', pattern: '^[A-Za-z0-9_+-][A-Za-z0-9._+-]*$' },
          commands: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._+@-]*$' } },
          requires: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: '^[a-z0-9][a-z0-9._+-]*(@[^\\s@]+)?$' } },
          sysdeps: {
            type: 'object',
            propertyNames: { pattern: '^[a-z0-9]+(-[a-z0-9_]+)?$' },
            additionalProperties: { type: 'array', items: { type: 'string', pattern: '^[+-][A-Za-z0-9_]+$' } },
          },
          patches: {
            type: 'object',
            propertyNames: { pattern: '^[a-z0-9][a-z0-9_-]*$' },
            additionalProperties: {
              type: 'object',
              required: ['file', 'default'],
              additionalProperties: false,
              properties: {
                file: { type: 'string', minLength: 1 },
                default: { type: 'boolean' },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** A recipe file as validated by RECIPE_SCHEMA. */
export interface RecipeFileData {
  name: string;
  category: string;
  description?: string;
  homepage?: string;
  versions: Record<string, RecipeVersionData>;
}

export interface RecipeVersionData {
  distfile: string;
  urls: string[];
  size?: number;
  md5: string;
  sha256?: string;
  /** How the tarball is laid out and built: `slashpackage` (CATEGORY/NAME-VERSION with package/ and src/) or `classic` (a flat directory built with make). */
  build: 'slashpackage' | 'classic';
  /** The builds `--build` may choose, the first being the default; absent: `ts` then `native` for slashpackage, `native` for classic. */
  builds?: ('ts' | 'native')[];
  /** classic: the tarball's one top directory; default NAME-VERSION. */
  top?: string;
  /** classic: the programs the build leaves in the top directory that go into command/ (upstream's hier.c list). */
  commands?: string[];
  /** Packages (NAME or NAME@RANGE) installed before this one when missing. */
  requires?: string[];
  /** Known-good `+feature`/`-feature` sysdep lines of a native build, by `PLATFORM-ARCH` or `PLATFORM` (Node's names). */
  sysdeps?: Record<string, string[]>;
  patches?: Record<string, { file: string; default: boolean }>;
}
