import { faultSuite } from './faults.js';

faultSuite('fresh install');
