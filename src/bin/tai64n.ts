#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/tai64n.js';
await runProgram('tai64n', main);
