import type { InstallContext } from '../context.js';
import type { Stage } from '../pipeline.js';
import { bootStage } from './boot.js';
import { buildStage } from './build.js';
import { extractStage } from './extract.js';
import { fetchStage } from './fetch.js';
import { inspectStage } from './inspect.js';
import { linksStage } from './links.js';
import { manStage } from './man.js';
import { manifestStage } from './manifest.js';
import { packageHomeStage } from './package-home.js';
import { patchStage } from './patch.js';
import { treeStage } from './tree.js';

/** The install stages, in order, from fetch to boot (docs/design/pipeline.md). */
export const INSTALL_STAGES: readonly Stage<InstallContext>[] = [
  fetchStage,
  inspectStage,
  packageHomeStage,
  extractStage,
  patchStage,
  buildStage,
  manStage,
  manifestStage,
  treeStage,
  linksStage,
  bootStage,
];
