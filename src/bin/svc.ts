#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/svc.js';
await runProgram('svc', main);
