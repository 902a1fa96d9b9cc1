import { faultSuite } from '../support/faults.js';

faultSuite('fresh install');
