export { createTallyHandler, enabledRoutes, MAX_BODY_BYTES, type TallyHandler, type TallyHandlerOptions } from './handler.js';
export { createOpenApiDocument, type OpenApiOptions } from './openapi.js';
export { PROBLEM_STATUS } from './problem.js';
export {
  type AnyRoute,
  type HttpMethod,
  ROUTE_SCOPES,
  type Route,
  type RouteContext,
  type RouteDeps,
  type RouteRequirement,
  type RouteScope,
  type TallyPrincipal,
} from './route.js';
export { routes } from './routes.js';
export * as schemas from './schemas.js';
export { DEFAULT_USAGE_RANGE_DAYS, MAX_USAGE_RANGE_DAYS, UNMETERED_KEY } from './usage.js';
export type * from './wire.js';
