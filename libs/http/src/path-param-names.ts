/** A `{param}` of an OpenAPI path template; `PARAM_SEGMENT` matches a whole segment that is one. */
const PARAM = /\{([A-Za-z_$][\w$]*)\}/g;
export const PARAM_SEGMENT = /^\{([A-Za-z_$][\w$]*)\}$/;

/** The names of the `{param}`s in an OpenAPI path template, in order. */
export const pathParamNames = (path: string): string[] => [...path.matchAll(PARAM)].map((m) => m[1]);
