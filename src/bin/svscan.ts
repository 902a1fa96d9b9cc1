#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/svscan.js';
await runProgram('svscan', main);
