import { faultSuite } from '../support/faults.js';

faultSuite('upgrade 0.76 -> 0.77');
