#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/svstat.js';
await runProgram('svstat', main);
