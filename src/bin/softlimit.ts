#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/softlimit.js';
await runProgram('softlimit', main);
