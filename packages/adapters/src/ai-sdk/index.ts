export { type ReportedCost, reportedCost, usdToNano } from './cost.js';
export { estimatePromptTokens } from './estimate.js';
export { type KeySource, type MeteredCall, type TallyMiddlewareOptions, tallyMiddleware } from './middleware.js';
export { type ModelForInput, type ModelProvider, modelFor, type RoutedModel, type RouteModelInput, routeModel } from './model.js';
