export { useUsage } from './hooks.js';
export { UsageMeter, type UsageMeterProps } from './usage-meter.js';
export { type UsageMeterRootProps, type UsageMeterState, usageMeterState } from './usage-meter-parts.js';
