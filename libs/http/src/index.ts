export type { BindRoutesOptions } from './bind-routes';
export { bindRoutes } from './bind-routes';
export type { OpenApiDocument, OpenApiInfo } from './build-open-api-document';
export { buildOpenApiDocument } from './build-open-api-document';
export { errorHandler } from './error-handler';
export type { FieldError, ProblemBody } from './http-problem';
export { HttpProblem, PROBLEM_CONTENT_TYPE, isHttpProblem, problemBody } from './http-problem';
export { notFoundHandler } from './not-found-handler';
export type { OAuthErrorBody } from './oauth-error';
export { oauthErrorBody, oauthErrorResponse, oauthErrorSchema } from './oauth-error';
export { problemResponse, problemSchema, problemSchemaRef } from './problem-schema';
export type {
  ErrorFormat,
  HandlerRequest,
  HandlerResult,
  HttpMethod,
  JsonSchema,
  RequestSpec,
  ResponseSpec,
  RouteDefinition,
} from './route-definition';
export { defineRoute } from './route-definition';
export type { HttpLog, MapError } from './to-problem';
export type { JsonStructureFault } from './duplicate-keys';
export { MAX_JSON_DEPTH, jsonStructureFault } from './duplicate-keys';
