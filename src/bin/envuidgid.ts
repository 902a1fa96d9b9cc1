#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/envuidgid.js';
await runProgram('envuidgid', main);
