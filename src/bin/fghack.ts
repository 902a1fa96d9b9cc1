#!/usr/bin/env node
import { runProgram } from './program.js';
import { fghackMain } from '../programs/loaders.js';
await runProgram('fghack', fghackMain);
