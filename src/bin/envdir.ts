#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/envdir.js';
await runProgram('envdir', main);
