import { faultSuite } from '../support/faults.js';

faultSuite('reinstall 0.76 with other patch sets (tree exchange)');
