import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../src/core/root.js';
import {
  FENCE_BEGIN,
  FENCE_END,
  INITTAB_LINE,
  RCLOCAL_CSH_LINE,
  RCLOCAL_SH_LINE,
  applyBoot,
  editBootText,
  planBoot,
  systemdUnitText,
  undoBoot,
} from '../../src/boot/boot.js';
import type { BootRequest, BootUndo } from '../../src/boot/boot.js';
import { tempDir } from '../support/tmp.js';
import { treeListing } from '../support/tree.js';

async function boot(root: Root, req: BootRequest = 'auto'): Promise<{ notes: string[]; undo: BootUndo; mode: string }> {
  const plan = await planBoot(root, req);
  const undo: BootUndo = { files: [], links: [], dirs: [] };
  const notes = await applyBoot(root, plan, undo);
  return { notes, undo, mode: plan.choice.mode };
}

function countLines(text: string, needle: string): number {
  return text.split('\n').filter((l) => l.includes(needle)).length;
}

describe('boot', () => {
  it('inittab root: appends one fenced SV line, keeps mode; a second run changes nothing', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.etcDir);
    writeFileSync(root.inittab, 'id:2:initdefault:\n', { mode: 0o600 });
    chmodSync(root.inittab, 0o600);
    const first = await boot(root);
    expect(first.mode).toBe('inittab');
    const text = readFileSync(root.inittab, 'utf8');
    expect(text).toBe(`id:2:initdefault:\n${FENCE_BEGIN}\n${INITTAB_LINE}\n${FENCE_END}\n`);
    expect(statSync(root.inittab).mode & 0o7777).toBe(0o600);
    expect(first.notes.join('\n')).toContain('not signalling init');
    const second = await boot(root);
    expect(second.undo.files).toEqual([]);
    expect(second.notes.join('\n')).toContain('already starts svscanboot; leaving it alone');
    expect(readFileSync(root.inittab, 'utf8')).toBe(text);
    expect(existsSync(root.inittab + '{new}')).toBe(false);
  });

  it('rc.local root without csh: creates #!/bin/sh file mode 755 with the /bin/sh line and says csh is missing', async () => {
    const root = new Root(tempDir());
    const r = await boot(root);
    expect(r.mode).toBe('rclocal');
    expect(readFileSync(root.rcLocal, 'utf8')).toBe(`#!/bin/sh\n${FENCE_BEGIN}\n${RCLOCAL_SH_LINE}\n${FENCE_END}\n`);
    expect(statSync(root.rcLocal).mode & 0o777).toBe(0o755);
    expect(r.notes.join('\n')).toMatch(/csh is not installed on this root/);
  });

  it('rc.local ending in exit 0 with csh installed: the csh line goes before exit 0', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.join('bin'));
    writeFileSync(root.join('bin/csh'), '');
    mkdirSync(root.etcDir);
    writeFileSync(root.rcLocal, '#!/bin/sh -e\necho hello\nexit 0\n\n', { mode: 0o755 });
    await boot(root);
    const once = readFileSync(root.rcLocal, 'utf8');
    expect(once).toBe(`#!/bin/sh -e\necho hello\n${FENCE_BEGIN}\n${RCLOCAL_CSH_LINE}\n${FENCE_END}\nexit 0\n\n`);
    await boot(root);
    expect(readFileSync(root.rcLocal, 'utf8')).toBe(once);
  });

  it('a hand-written svscanboot line is recognised and left alone', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.etcDir);
    const mine = 'id:2:initdefault:\nSV:2345:respawn:/command/svscanboot\n';
    writeFileSync(root.inittab, mine);
    const r = await boot(root);
    expect(readFileSync(root.inittab, 'utf8')).toBe(mine);
    expect(r.notes.join('\n')).toMatch(/written by hand/);
    expect(r.undo.files).toEqual([]);
  });

  it('systemd root: auto picks systemd even with an rc.local present; writes the unit and its wants link', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.systemdRunDir, { recursive: true });
    mkdirSync(root.etcDir);
    writeFileSync(root.rcLocal, 'echo no shebang\n', { mode: 0o644 });
    writeFileSync(root.inittab, 'id:2:initdefault:\n');
    const r = await boot(root);
    expect(r.mode).toBe('systemd');
    const unit = path.join(root.systemdSystemDir, 'svscan.service');
    expect(readFileSync(unit, 'utf8')).toBe(systemdUnitText());
    expect(readFileSync(unit, 'utf8')).toContain('ExecStart=/command/svscanboot');
    const wants = path.join(root.systemdSystemDir, 'multi-user.target.wants/svscan.service');
    expect(readlinkSync(wants)).toBe('../svscan.service');
    expect(readFileSync(wants, 'utf8')).toBe(systemdUnitText());
    expect(readFileSync(root.rcLocal, 'utf8')).toBe('echo no shebang\n');
    expect(readFileSync(root.inittab, 'utf8')).toBe('id:2:initdefault:\n');
    const again = await boot(root);
    expect(again.undo).toEqual({ files: [], links: [], dirs: [] });
  });

  it('--boot rclocal on a systemd root warns that an rc.local without #! or exec bit never runs', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.systemdRunDir, { recursive: true });
    mkdirSync(root.etcDir);
    writeFileSync(root.rcLocal, 'echo no shebang\n', { mode: 0o644 });
    const plan = await planBoot(root, 'rclocal');
    expect(plan.notes.join('\n')).toMatch(/systemd will not run it/);
  });

  it('undo puts the boot file and unit back exactly', async () => {
    const root = new Root(tempDir());
    mkdirSync(root.etcDir);
    writeFileSync(root.inittab, 'id:2:initdefault:\n');
    const before = treeListing(root.dir);
    const r = await boot(root);
    await undoBoot(r.undo);
    expect(treeListing(root.dir)).toEqual(before);

    const sd = new Root(tempDir());
    mkdirSync(sd.systemdRunDir, { recursive: true });
    const sdBefore = treeListing(sd.dir);
    const s = await boot(sd);
    await undoBoot(s.undo);
    expect(treeListing(sd.dir)).toEqual(sdBefore);
  });

  it('editBootText corrects a stale block of ours instead of adding a second one', () => {
    const old = `x\n${FENCE_BEGIN}\n${RCLOCAL_SH_LINE}\n${FENCE_END}\nexit 0\n`;
    const e = editBootText(old, RCLOCAL_CSH_LINE, 'rclocal');
    expect(e.status).toBe('updated');
    expect(countLines(e.text, 'svscanboot')).toBe(1);
    expect(e.text).toBe(`x\n${FENCE_BEGIN}\n${RCLOCAL_CSH_LINE}\n${FENCE_END}\nexit 0\n`);
  });
});
