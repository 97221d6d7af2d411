export { cx } from './class-names.js';
export { type ControllableStateOptions, useControllableState } from './controllable-state.js';
export { Primitive, type PrimitiveProps, type PrimitiveTag } from './primitive.js';
