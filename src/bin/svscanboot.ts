#!/usr/bin/env node
import { runProgram } from './program.js';
import { main } from '../programs/svscanboot.js';
await runProgram('svscanboot', main);
