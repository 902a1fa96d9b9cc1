#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/svok.js';
await runProgram('svok', main);
