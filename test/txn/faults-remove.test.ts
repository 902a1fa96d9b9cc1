import { faultSuite } from './faults.js';

faultSuite('remove');
