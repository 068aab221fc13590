export type { BindRoutesOptions } from './bind-routes';
export { bindRoutes } from './bind-routes';
export type { OpenApiDocument, OpenApiInfo } from './build-open-api-document';
export { buildOpenApiDocument } from './build-open-api-document';
export type { EntityTag, EntityTagCondition, Preconditions } from './entity-tags';
export {
  ENTITY_TAG_LIST_PATTERN,
  ifMatchHolds,
  ifNoneMatchHolds,
  MAX_PRECONDITION_LENGTH,
  parseEntityTagCondition,
  readPreconditions,
  representationTag,
  strongMatch,
  weakMatch,
} from './entity-tags';
export { errorHandler } from './error-handler';
export type { FieldError, ProblemBody } from './http-problem';
export { describedPattern } from './to-field-errors';
export { HttpProblem, PROBLEM_CONTENT_TYPE, isHttpProblem, problemBody } from './http-problem';
export { notFoundHandler } from './not-found-handler';
export { BINDER_PROBLEM_TITLES } from './request-problems';
export type { OAuthErrorBody } from './oauth-error';
export { oauthErrorBody, oauthErrorOf, oauthErrorResponse, oauthErrorSchema } from './oauth-error';
export { problemResponse, problemSchema, problemSchemaRef } from './problem-schema';
export { preconditionFailedProblem } from './request-problems';
export type {
  ErrorFormat,
  HandlerRequest,
  HandlerResult,
  HttpMethod,
  JsonSchema,
  RequestSpec,
  ResponseSpec,
  RouteDefinition,
  Validated,
} from './route-definition';
export { defineRoute, defineRouteFor } from './route-definition';
export { RouteTable, type RouteMatch } from './route-table';
export type { HttpLog, MapError } from './to-problem';
export type { JsonStructureFault } from './duplicate-keys';
export type { JsonPath } from './free-values';
export { NO_NUL_PATTERN, storedJsonValueRef, storedJsonValueSchema } from './json-value-schema';
export { MAX_JSON_DEPTH, jsonStructureFault } from './duplicate-keys';
