#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/fghack.js';
await runProgram('fghack', main);
