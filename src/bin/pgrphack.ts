#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/pgrphack.js';
await runProgram('pgrphack', main);
