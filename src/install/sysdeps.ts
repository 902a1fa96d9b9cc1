import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ProbeSystem } from '../posix/probe.js';

/**
 * The sysdeps report upstream asks every installer to send in, in the shape
 * of 0.76's compile/sysdeps: the system type line, how the programs are built,
 * then one `+feature`/`-feature` line per probe of this system.
 */

export interface Uname {
  sysname: string;
  release: string;
  machine: string;
}

export interface CpuInfo {
  vendor: string;
  family: number;
  model: number;
  stepping: number;
  flags: string[];
}

export interface BuildFacts {
  kind: 'ts';
  nodeVersion: string;
  nodePath: string;
  koffiVersion: string;
}

export interface SysdepsReport {
  systype: string;
  build: BuildFacts;
  features: { name: string; present: boolean }[];
}

/** 0.76's probes, then the runtime's own; each asks the system. */
export const PROBES: readonly { name: string; test: (sys: ProbeSystem) => boolean }[] = [
  { name: 'dirent', test: (s) => s.hasSymbol('opendir') && s.hasSymbol('readdir') },
  { name: 'waitpid', test: (s) => s.hasSymbol('waitpid') },
  { name: 'sigaction', test: (s) => s.hasSymbol('sigaction') },
  { name: 'sigprocmask', test: (s) => s.hasSymbol('sigprocmask') },
  { name: 'sysselect', test: (s) => s.hasSymbol('select') },
  { name: 'ulong64', test: (s) => s.sizeOf('unsigned long') === 8 },
  { name: 'poll', test: (s) => s.hasSymbol('poll') },
  { name: 'mkfifo', test: (s) => s.hasSymbol('mkfifo') && s.makesFifo() },
  { name: 'flock', test: (s) => s.hasSymbol('flock') && s.locksWithFlock() },
  { name: 'shortsetgroups', test: (s) => s.sizeOf('gid_t') === 2 },
  { name: 'pipe2', test: (s) => s.hasSymbol('pipe2') && s.makesPipe2() },
  { name: 'execve', test: (s) => s.hasSymbol('execve') },
  { name: 'setrlimit', test: (s) => s.hasSymbol('setrlimit') && s.hasSymbol('getrlimit') },
];

/** CPUID leaf-1 EDX bits, by the names Linux gives them in /proc/cpuinfo. */
const EDX_FLAGS: readonly (string | undefined)[] = [
  'fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', undefined, 'sep',
  'mtrr', 'pge', 'mca', 'cmov', 'pat', 'pse36', 'pn', 'clflush', undefined, 'dts', 'acpi',
  'mmx', 'fxsr', 'sse', 'sse2', 'ss', 'ht', 'tm', 'ia64', 'pbe',
];

/** The chip field as 0.76's x86cpuid prints it: vendor, CPUID(1).EAX, CPUID(1).EDX. */
export function x86Chip(cpu: CpuInfo): string {
  const extFamily = cpu.family > 15 ? cpu.family - 15 : 0;
  const baseFamily = cpu.family > 15 ? 15 : cpu.family;
  const extModel = baseFamily === 6 || baseFamily === 15 ? cpu.model >> 4 : 0;
  const eax =
    ((extFamily & 0xff) << 20) | ((extModel & 0xf) << 16) | ((baseFamily & 0xf) << 8) | ((cpu.model & 0xf) << 4) | (cpu.stepping & 0xf);
  let edx = 0;
  const have = new Set(cpu.flags);
  EDX_FLAGS.forEach((flag, bit) => {
    if (flag && have.has(flag)) edx |= 1 << bit;
  });
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
  return `${cpu.vendor}-${hex(eax)}-${hex(edx)}`;
}

/** `oper-:arch-:syst-:chip-:kern-` as 0.76's find-systype.sh makes it on Linux. */
export function systype(uname: Uname, cpu: CpuInfo | undefined): string {
  const clean = (s: string) => s.replace(/[/:]/g, '.');
  const oper = `${clean(uname.sysname.toLowerCase())}-${clean(uname.release)}`;
  let chip = clean(uname.machine);
  const arch = /^i[3-6]86$/.test(chip) ? 'i386' : chip === 'alpha' ? 'alpha' : '';
  if (chip === 'i586') chip = 'pentium';
  if (chip === 'i686') chip = 'ppro';
  if (cpu && /^(x86_64|i[3-6]86)$/.test(uname.machine)) chip = clean(x86Chip(cpu));
  return `${oper}-:${arch}-:-:${chip}-:-`.replace(/ /g, '.').toLowerCase();
}

export function parseCpuinfo(text: string): CpuInfo | undefined {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const vendor = field('vendor_id');
  const family = field('cpu family');
  const model = field('model');
  if (!vendor || family === undefined || model === undefined) return undefined;
  return {
    vendor,
    family: Number(family),
    model: Number(model),
    stepping: Number(field('stepping') ?? 0),
    flags: (field('flags') ?? '').split(/\s+/).filter(Boolean),
  };
}

export interface SysdepsInputs {
  probes: ProbeSystem;
  uname: Uname;
  cpuinfo: string | undefined;
  build: BuildFacts;
}

export function buildSysdeps(inputs: SysdepsInputs): SysdepsReport {
  const cpu = inputs.cpuinfo === undefined ? undefined : parseCpuinfo(inputs.cpuinfo);
  return {
    systype: systype(inputs.uname, cpu),
    build: inputs.build,
    features: PROBES.map((p) => ({ name: p.name, present: p.test(inputs.probes) })),
  };
}

/** The report as the text written to compile/sysdeps. */
export function renderSysdeps(r: SysdepsReport): string {
  const lines = [
    r.systype,
    `build: ${r.build.kind}`,
    `runtime: node ${r.build.nodeVersion} ${r.build.nodePath}; koffi ${r.build.koffiVersion}`,
    ...r.features.map((f) => `/* sysdep: ${f.present ? '+' : '-'}${f.name} */`),
  ];
  return lines.join('\n') + '\n';
}

/** Facts about this machine that are not probes: uname and /proc/cpuinfo. */
export function hostFacts(): { uname: Uname; cpuinfo: string | undefined } {
  let cpuinfo: string | undefined;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    cpuinfo = undefined;
  }
  return { uname: { sysname: os.type(), release: os.release(), machine: os.machine() }, cpuinfo };
}
