#!/usr/bin/env node
import { runProgram } from './program.js';
import { loaderMain } from '../programs/loaders.js';
await runProgram('envuidgid', loaderMain('envuidgid'));
