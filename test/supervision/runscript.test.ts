import { describe, expect, it } from 'vitest';
import { literalWords, parsePlainScript } from '../../src/supervision/runscript.js';
import { runScript } from '../../src/service/definition.js';

describe('plain exec scripts (the fast path parser)', () => {
  it('takes djb\'s plain forms', () => {
    expect(parsePlainScript('#!/bin/sh\nexec envdir ./env setuidgid nobody softlimit -m 100000000 /usr/bin/prog\n')).toEqual({
      words: ['envdir', './env', 'setuidgid', 'nobody', 'softlimit', '-m', '100000000', '/usr/bin/prog'],
      stderrToStdout: false,
    });
    expect(parsePlainScript('#!/bin/sh -e\n# comment\n\nexec 2>&1\n  exec pgrphack prog \'a b\' "c d" \'\' x\'y\'"z" -o=\n# trailing\n')).toEqual({
      words: ['pgrphack', 'prog', 'a b', 'c d', '', 'xyz', '-o='],
      stderrToStdout: true,
    });
    // log/run scripts too (for the log host's recognizer).
    expect(parsePlainScript('#!/bin/sh\nexec setuidgid nobody multilog t s1000000 n20 ./main\n')?.words).toEqual(['setuidgid', 'nobody', 'multilog', 't', 's1000000', 'n20', './main']);
    expect(parsePlainScript("#!/bin/sh\nexec softlimit -o = prog '$HOME' \"a;b|c&d\"\n")?.words).toEqual(['softlimit', '-o', '=', 'prog', '$HOME', 'a;b|c&d']);
  });

  it('refuses every shell construct and anything that is not such a script', () => {
    const refused = [
      'exec envdir ./env prog\n', // no #!
      '#!/bin/bash\nexec envdir ./env prog\n',
      '#!/bin/sh -x\nexec envdir ./env prog\n',
      '#!/bin/sh\nexec envdir ./env prog $HOME\n',
      '#!/bin/sh\nexec envdir ./env prog "$HOME"\n',
      '#!/bin/sh\nexec envdir ./env prog `id`\n',
      '#!/bin/sh\nexec envdir ./env prog; true\n',
      '#!/bin/sh\nexec envdir ./env prog & \n',
      '#!/bin/sh\nexec envdir ./env prog | cat\n',
      '#!/bin/sh\nexec envdir ./env prog >/dev/null\n',
      '#!/bin/sh\nexec envdir ./env prog 2>&1\n',
      '#!/bin/sh\nexec envdir ./env prog *\n',
      '#!/bin/sh\nexec envdir ./env prog ~\n',
      '#!/bin/sh\nexec envdir ./env prog \\\n  arg\n',
      '#!/bin/sh\nexec envdir ./env prog # comment\n',
      '#!/bin/sh\nexec envdir ./env prog \'unterminated\n',
      '#!/bin/sh\nexec envdir ./env "prog\\"x"\n',
      '#!/bin/sh\nexec FOO=bar prog\n',
      '#!/bin/sh\nexec\n',
      '#!/bin/sh\nexec 2>&1\n',
      '#!/bin/sh\nexec 2>&1\nexec 2>&1\nexec prog\n',
      '#!/bin/sh\nexport A=1\nexec prog\n',
      '#!/bin/sh\nexec prog\nexec other\n',
      '#!/bin/sh\r\nexec prog\r\n',
      '#!/bin/sh\nexec prog arg\0\n',
      "#!/bin/sh\nexec prog 'it'\\''s'\n",
    ];
    for (const text of refused) expect(parsePlainScript(text), JSON.stringify(text)).toBeUndefined();
    expect(literalWords('a $b')).toBeUndefined();
    // `!` is literal inside a word (multilog's `!processor`), never the command itself.
    expect(parsePlainScript('#!/bin/sh\nexec multilog t !gzip ./main\n')?.words).toEqual(['multilog', 't', '!gzip', './main']);
    expect(parsePlainScript('#!/bin/sh\nexec ! prog\n')).toBeUndefined();
  });

  it('djbpkg service add writes run scripts in the plain form', () => {
    const spec = {
      name: 'web',
      command: ['/usr/local/bin/web', '--port', '8080', 'a b'],
      user: { name: 'www-data', uid: 33, gid: 33 },
      logUser: undefined,
      logOwner: { name: 'root', uid: 0, gid: 0 },
      env: { A: '1' },
      down: false,
    };
    expect(parsePlainScript(runScript(spec as never))).toEqual({
      words: ['envdir', './env', 'setuidgid', 'www-data', '/usr/local/bin/web', '--port', '8080', 'a b'],
      stderrToStdout: true,
    });
  });
});
