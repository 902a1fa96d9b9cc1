import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSysdeps, hostFacts, parseCpuinfo, PROBES, renderSysdeps, systype, x86Chip } from '../../src/install/sysdeps.js';
import { realProbeSystem, type ProbeSystem } from '../../src/posix/probe.js';
import { tempDir } from '../support/tmp.js';

const build = { kind: 'ts' as const, nodeVersion: process.version, nodePath: process.execPath, koffiVersion: '3.3.4' };

/** The real probes with one answer changed. */
function flipped(real: ProbeSystem, change: Partial<ProbeSystem>): ProbeSystem {
  return { ...bindAll(real), ...change };
}
function bindAll(p: ProbeSystem): ProbeSystem {
  return {
    hasSymbol: (n) => p.hasSymbol(n),
    sizeOf: (t) => p.sizeOf(t),
    makesFifo: () => p.makesFifo(),
    locksWithFlock: () => p.locksWithFlock(),
    makesPipe2: () => p.makesPipe2(),
  };
}

const CPUINFO_XEON = [
  'processor\t: 0',
  'vendor_id\t: GenuineIntel',
  'cpu family\t: 6',
  'model\t\t: 207',
  'model name\t: Intel(R) Xeon(R) Processor',
  'stepping\t: 2',
  'flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht syscall nx lm',
  '',
].join('\n');

describe('sysdeps report', () => {
  const real = realProbeSystem();

  it('has the 0.76 probes and the runtime ones, in 0.76 order, as sysdep lines', () => {
    const text = renderSysdeps(buildSysdeps({ probes: real, ...hostFacts(), build }));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^linux-[^:]+-:[^:]*-:-:[^:]+-:-$/);
    expect(lines[1]).toBe('build: ts');
    expect(lines[2]).toBe(`runtime: node ${process.version} ${process.execPath}; koffi 3.3.4`);
    const names = lines.slice(3).map((l) => /^\/\* sysdep: [+-](\w+) \*\/$/.exec(l)?.[1]);
    expect(names).toEqual(['dirent', 'waitpid', 'sigaction', 'sigprocmask', 'sysselect', 'ulong64', 'poll', 'mkfifo', 'flock', 'shortsetgroups', 'pipe2', 'execve', 'setrlimit']);
  });

  it('answers each probe from the system: on this Linux every feature but shortsetgroups is present', () => {
    const r = buildSysdeps({ probes: real, ...hostFacts(), build });
    const present = Object.fromEntries(r.features.map((f) => [f.name, f.present]));
    expect(present.shortsetgroups).toBe(false);
    for (const name of PROBES.map((p) => p.name).filter((n) => n !== 'shortsetgroups')) expect(present[name], name).toBe(true);
  });

  it('follows its inputs: a libc without flock gives -flock, a 32-bit long gives -ulong64, short gid_t gives +shortsetgroups', () => {
    const noFlock = buildSysdeps({ probes: flipped(real, { hasSymbol: (n) => n !== 'flock' && real.hasSymbol(n) }), ...hostFacts(), build });
    expect(renderSysdeps(noFlock)).toContain('/* sysdep: -flock */');
    expect(renderSysdeps(noFlock)).toContain('/* sysdep: +mkfifo */');
    const ilp32 = buildSysdeps({ probes: flipped(real, { sizeOf: (t) => (t === 'unsigned long' ? 4 : 4) }), ...hostFacts(), build });
    expect(renderSysdeps(ilp32)).toContain('/* sysdep: -ulong64 */');
    const shortGid = buildSysdeps({ probes: flipped(real, { sizeOf: (t) => (t === 'gid_t' ? 2 : 8) }), ...hostFacts(), build });
    expect(renderSysdeps(shortGid)).toContain('/* sysdep: +shortsetgroups */');
    const brokenFifo = buildSysdeps({ probes: flipped(real, { makesFifo: () => false }), ...hostFacts(), build });
    expect(renderSysdeps(brokenFifo)).toContain('/* sysdep: -mkfifo */');
  });

  it('builds the system type line as find-systype.sh does', () => {
    const cpu = parseCpuinfo(CPUINFO_XEON);
    expect(cpu).toBeDefined();
    expect(x86Chip(cpu!)).toBe('GenuineIntel-000c06f2-1f8bfbff');
    expect(systype({ sysname: 'Linux', release: '6.1.0-18-amd64', machine: 'x86_64' }, cpu)).toBe(
      'linux-6.1.0-18-amd64-:-:-:genuineintel-000c06f2-1f8bfbff-:-',
    );
    expect(systype({ sysname: 'Linux', release: '2.4.20', machine: 'i686' }, undefined)).toBe('linux-2.4.20-:i386-:-:ppro-:-');
    expect(systype({ sysname: 'Linux', release: '6.6:x/y', machine: 'aarch64' }, undefined)).toBe('linux-6.6.x.y-:-:-:aarch64-:-');
  });

  const canCompile = existsSync('/usr/bin/cc') && ['x64', 'ia32'].includes(process.arch);
  it.skipIf(!canCompile)('derives the same chip as the CPUID instruction itself (needs cc on x86)', () => {
    const dir = tempDir();
    const src = path.join(dir, 'cpuid.c');
    writeFileSync(
      src,
      '#include <cpuid.h>\n#include <stdio.h>\n#include <string.h>\n' +
        'int main(void){unsigned a,b,c,d;char v[13];__get_cpuid(0,&a,&b,&c,&d);' +
        'memcpy(v,&b,4);memcpy(v+4,&d,4);memcpy(v+8,&c,4);v[12]=0;' +
        '__get_cpuid(1,&a,&b,&c,&d);printf("%s-%08x-%08x\\n",v,a,d);return 0;}\n',
    );
    execFileSync('cc', ['-o', path.join(dir, 'cpuid'), src]);
    const fromCpu = execFileSync(path.join(dir, 'cpuid')).toString().trim();
    const fromProc = x86Chip(parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'))!);
    // Linux hides EDX bits it does not name; vendor and signature must agree exactly.
    expect(fromProc.split('-').slice(0, 2)).toEqual(fromCpu.split('-').slice(0, 2));
    expect(os.type()).toBe('Linux');
  });
});
