#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/setuidgid.js';
await runProgram('setuidgid', main);
