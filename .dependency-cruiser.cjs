/**
 * djbpkg's layers, lowest first, as rules that `npx depcruise src` (and
 * test/packaging/layers.test.ts) enforces: a folder of src/ may import its own
 * layer and the layers below, never one above, and no import circle.
 *
 *   core, posix                      errors, exit codes, Root; the libc calls
 *   djb                              djb's general helpers: getopt, error_str, pathexec, fd i/o, TAI64N
 *   patch, recipe, supervision       pure formats and rules: diffs, recipes, daemontools' protocol
 *   programs, service, boot          the daemontools programs; djbpkg service; svscanboot hook and svscan start
 *   installed                        what is installed: manifests, lock, journal, remove, doctor
 *   install                          the install pipeline and its stages
 *   cli                              djbpkg's command line
 *   bin                              one entry per executable
 */
const LAYERS = [
  ['core', 'posix'],
  ['djb'],
  ['patch', 'recipe', 'supervision'],
  ['programs', 'service', 'boot'],
  ['installed'],
  ['install'],
  ['cli'],
  ['bin'],
];

const folders = (list) => `^src/(${list.join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} may not import from a higher layer (${LAYERS.slice(i + 1).flat().join(', ')})`,
  severity: 'error',
  from: { path: folders(layer) },
  to: { path: folders(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle: modules that cannot be understood or tested one without the other',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'no-unknown-folder',
      comment: 'every folder of src/ has a place in the layers above (add a new one to LAYERS)',
      severity: 'error',
      from: { path: '^src/', pathNot: folders(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
