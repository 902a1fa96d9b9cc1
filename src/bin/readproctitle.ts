#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/readproctitle.js';
await runProgram('readproctitle', main);
