#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/setlock.js';
await runProgram('setlock', main);
