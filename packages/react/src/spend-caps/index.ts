export { useSetSpendCap, useSpendCaps } from './hooks.js';
