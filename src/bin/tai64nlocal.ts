#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/tai64nlocal.js';
await runProgram('tai64nlocal', main);
