import { faultSuite } from '../support/faults.js';

faultSuite('remove');
