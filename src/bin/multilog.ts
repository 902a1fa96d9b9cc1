#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/multilog.js';
import { exitImmediately } from '../posix/index.js';
await runProgram('multilog', main);
// A read of stdin may still be pending on a worker thread (after SIGTERM);
// Node's own exit would wait for it. Everything is written synchronously.
exitImmediately(typeof process.exitCode === 'number' ? process.exitCode : 0);
