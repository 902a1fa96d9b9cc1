#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/supervise.js';
await runProgram('supervise', main);
