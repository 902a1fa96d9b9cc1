import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { literalWords, parseLogScript, resolveLogScript } from '../../../src/supervision/hosted/logscript.js';
import { DIST_BIN } from '../../support/run.js';
import { tempDir } from '../../support/tmp.js';

describe('log/run recogniser (which loggers svscan hosts)', () => {
  it('accepts the plain forms, with the user when setuidgid is there', () => {
    expect(parseLogScript('#!/bin/sh\nexec setuidgid nobody multilog t ./main\n')).toEqual({
      user: 'nobody',
      multilogArgs: ['t', './main'],
      setuidgidWord: 'setuidgid',
      multilogWord: 'multilog',
    });
    expect(parseLogScript('#!/bin/sh -e\n# a comment\n\nexec 2>&1\n  exec  multilog t s100000 n20 ./main  \n# trailing\n')).toEqual({
      user: undefined,
      multilogArgs: ['t', 's100000', 'n20', './main'],
      setuidgidWord: undefined,
      multilogWord: 'multilog',
    });
    // Quotes around literal text are fine, and glue to what is next to them.
    expect(parseLogScript(`#!/bin/sh\nexec /command/setuidgid log /command/multilog t '!tai64nlocal | gzip' "-*" +'x y'z ./main\n`)?.multilogArgs).toEqual([
      't',
      '!tai64nlocal | gzip',
      '-*',
      '+x yz',
      './main',
    ]);
  });

  it('refuses anything sh would expand, redirect, chain or glob, and every other shape', () => {
    const refused = [
      '#!/bin/bash\nexec multilog t ./main\n',
      '#!/bin/sh -x\nexec multilog t ./main\n',
      'exec multilog t ./main\n',
      '#!/bin/sh\nmultilog t ./main\n',
      '#!/bin/sh\nexec multilog t $DIR\n',
      '#!/bin/sh\nexec multilog t "$DIR"\n',
      '#!/bin/sh\nexec multilog t `pwd`/main\n',
      '#!/bin/sh\nexec multilog t ./main; id\n',
      '#!/bin/sh\nexec multilog t ./main & \n',
      '#!/bin/sh\nexec multilog t ./main | cat\n',
      '#!/bin/sh\nexec multilog t ./main > /tmp/x\n',
      '#!/bin/sh\nexec multilog t ./main < /tmp/x\n',
      '#!/bin/sh\nexec multilog t ./ma*\n',
      '#!/bin/sh\nexec multilog t ./ma?n\n',
      '#!/bin/sh\nexec multilog t ./[m]ain\n',
      '#!/bin/sh\nexec multilog t ~/main\n',
      '#!/bin/sh\nexec multilog t \\\n ./main\n',
      '#!/bin/sh\nexec multilog t "./ma\\in"\n',
      "#!/bin/sh\nexec multilog t './main\n",
      '#!/bin/sh\nPATH=/tmp exec multilog t ./main\n',
      '#!/bin/sh\nexec env X=1 multilog t ./main\n',
      '#!/bin/sh\nexec setuidgid multilog\n',
      '#!/bin/sh\nexec setuidgid -x multilog t ./main\n',
      '#!/bin/sh\nexec multilog t ./a\nexec multilog t ./b\n',
      '#!/bin/sh\nexec multilog t ./main\necho after\n',
      '#!/bin/sh\ncd /tmp\nexec multilog t ./main\n',
      '#!/bin/sh\nexec 2>&1\nexec 2>&1\nexec multilog t ./main\n',
      '#!/bin/sh\nexec\n',
      '#!/bin/sh\nexec multilog t ./main\r\n',
      `#!/bin/sh\nexec multilog ${'./d '.repeat(3000)}\n`,
      '#!/bin/sh\nexec multilog t ./main\0\n',
    ];
    for (const text of refused) expect(parseLogScript(text), JSON.stringify(text)).toBeNull();
    expect(literalWords('a "b c" d')).toEqual(['a', 'b c', 'd']);
    expect(literalWords('a #b')).toBeNull();
  });

  it('hosts only when setuidgid and multilog found on PATH are this very runtime', () => {
    const dir = tempDir();
    const fake = path.join(dir, 'fake');
    mkdirSync(fake);
    for (const n of ['multilog', 'setuidgid']) {
      writeFileSync(path.join(fake, n), '#!/bin/sh\nexec /bin/true\n');
      chmodSync(path.join(fake, n), 0o755);
    }
    const bin = path.resolve(DIST_BIN);
    const ours = path.join(dir, 'ours');
    mkdirSync(ours);
    for (const n of ['multilog', 'setuidgid']) symlinkSync(path.join(bin, `${n}.js`), path.join(ours, n));
    const parsed = parseLogScript('#!/bin/sh\nexec setuidgid nobody multilog t ./main\n')!;
    // Not ours: someone else's programs of the same names come first on PATH.
    expect(resolveLogScript(parsed, `${fake}:/bin`, bin)).toBeNull();
    // Ours, found on PATH, or named by path.
    expect(resolveLogScript(parsed, `${ours}:${fake}`, bin)).toMatchObject({ user: 'nobody', multilogPath: path.join(bin, 'multilog.js') });
    const byPath = parseLogScript(`#!/bin/sh\nexec ${ours}/setuidgid nobody ${ours}/multilog t ./main\n`)!;
    expect(resolveLogScript(byPath, '/bin', bin)).toMatchObject({ user: 'nobody', multilogPath: path.join(bin, 'multilog.js') });
    // Our multilog but a setuidgid of someone else's: not hosted.
    const mixed = parseLogScript(`#!/bin/sh\nexec ${fake}/setuidgid nobody ${ours}/multilog t ./main\n`)!;
    expect(resolveLogScript(mixed, '/bin', bin)).toBeNull();
    // Nothing found at all.
    expect(resolveLogScript(parsed, '/nonexistent', bin)).toBeNull();
  });
});
