import type { CommandModule } from 'yargs';
import type { Io } from '../core/io.js';
import { bootCommand } from './boot.js';
import { completionCommand } from './completion.js';
import { doctorCommand } from './doctor.js';
import { fetchCommand } from './fetch.js';
import { infoCommand } from './info.js';
import { initCommand } from './init.js';
import { installCommand } from './install.js';
import { listCommand } from './list.js';
import { removeCommand } from './remove.js';
import { serviceCommand } from './service.js';
import { sysdepsCommand } from './sysdeps.js';
import { verifyCommand } from './verify.js';

/**
 * The djbpkg verbs, in --help order. Each entry builds its yargs command
 * module around the process's io; one module per verb in this folder.
 */
export type CommandFactory = (io: Io) => CommandModule<any, any>;

export const COMMANDS: CommandFactory[] = [
  initCommand,
  installCommand,
  fetchCommand,
  verifyCommand,
  infoCommand,
  listCommand,
  removeCommand,
  doctorCommand,
  bootCommand,
  sysdepsCommand,
  serviceCommand,
  completionCommand,
];
