import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { findInstalled } from '../install/manifest.js';
import { koffiVersion } from '../install/runtime.js';
import { probeSysdeps, renderSysdeps, writeSysdeps } from '../install/sysdeps.js';
import type { GlobalArgs } from './fetch-options.js';
import { info, json } from './render.js';

interface SysdepsArgs extends GlobalArgs {
  package: string;
}

/** `djbpkg sysdeps [NAME]`: the report 0.76 asks installers to send in. */
export function sysdepsCommand(io: Io): CommandModule<GlobalArgs, SysdepsArgs> {
  return {
    command: 'sysdeps [package]',
    describe: "probe this system and print the sysdeps report (0.76's compile/sysdeps shape); write it into the installed package",
    builder: (y) => y.positional('package', { type: 'string', default: 'daemontools', describe: 'installed package whose compile/sysdeps to write' }),
    handler: async (args) => {
      const report = probeSysdeps(koffiVersion());
      const pkg = await findInstalled(io.root, args.package);
      const written = pkg ? await writeSysdeps(pkg, report) : undefined;
      if (args.json) {
        json(io.stdout, { ...report, written: written ?? null });
      } else {
        io.stdout.write(renderSysdeps(report));
      }
      if (written) info(io.stderr, `wrote ${written}`);
      else info(io.stderr, `${args.package} is not installed under ${io.root.dir}; the report was not written anywhere`);
    },
  };
}
