import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { ioError } from '../core/errors.js';
import { parseSysdepLines, readBuildRecord } from '../install/build-native.js';
import type { Io } from '../core/io.js';
import { findInstalled } from '../installed/manifest.js';
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
      const pkg = await findInstalled(io.root, args.package);
      const record = pkg ? await readBuildRecord(pkg) : undefined;
      if (pkg && record?.build === 'native' && record.sysdeps) {
        // A native build's report is the one its compile wrote; probing again would describe a different program.
        const file = path.join(pkg, record.sysdeps);
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw ioError(`unable to read ${file}`, err);
        }
        if (args.json) json(io.stdout, { build: record, file, text, features: parseSysdepLines(text) });
        else io.stdout.write(text);
        info(io.stderr, `${args.package} is a native build (${record.compiler}, conf-cc ${record['conf-cc']}); this is the compile's own ${record.sysdeps}`);
        return;
      }
      const report = probeSysdeps(koffiVersion());
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
