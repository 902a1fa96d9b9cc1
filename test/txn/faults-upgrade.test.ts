import { faultSuite } from './faults.js';

faultSuite('upgrade 0.76 -> 0.77');
