#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/multilog.js';
await runProgram('multilog', main);
// A read of stdin may still be pending after a SIGTERM exit; it must not keep us alive.
process.exit();
