import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv';
import type { FormatsPlugin } from 'ajv-formats';
import type { JsonSchema } from '../plugin-api.js';
import { isSecretKey, redactUrl } from '../server/redact.js';
import { type ConfigIssue, formatPath } from './issues.js';
import type { ConfigSource } from './source.js';

// ajv and ajv-formats are CommonJS modules whose types describe a `default` export that an ES
// module import does not unwrap, so they are loaded with require.
const require = createRequire(import.meta.url);
const Ajv = require('ajv').default as typeof AjvClass;
const addFormats = require('ajv-formats').default as FormatsPlugin;

/** Creates the ajv instance used for the config and for every plugin's options. */
export function createAjv() {
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes: true,
    useDefaults: true,
    strict: false,
    // verbose keeps each error's parentSchema, where the x-expected descriptions live.
    verbose: true,
  });
  addFormats(ajv);
  for (const keyword of ['x-expected', 'x-secret']) {
    ajv.addKeyword({ keyword });
  }
  return ajv;
}

type Ajv = ReturnType<typeof createAjv>;

// Compiling the composed config schema takes most of a second, and every load composes a new
// schema object, so validators are cached by the schema's JSON text. The cache stays small: one
// entry per distinct plugin set and per plugin options schema.
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 256;

// Validating many routes against one schema object skips the JSON text after the first.
const compiledObjects = new WeakMap<JsonSchema, ValidateFunction>();

/** Compiles `schema` once per distinct schema text. */
export function compileSchema(ajv: Ajv, schema: JsonSchema): ValidateFunction {
  const known = compiledObjects.get(schema);
  if (known) {
    return known;
  }
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    validate = ajv.compile(schema);
    if (compiled.size >= MAX_COMPILED) {
      compiled.delete(compiled.keys().next().value as string);
    }
    compiled.set(text, validate);
  }
  compiledObjects.set(schema, validate);
  return validate;
}

/**
 * Validates `value` (found at `basePath` in the file) against `schema`, returning one issue per
 * distinct problem with its line and column. Valid values may be changed in place by defaults and
 * type coercion.
 */
export function validateAt(
  ajv: Ajv,
  schema: JsonSchema,
  value: unknown,
  basePath: (string | number)[],
  source: ConfigSource,
): ConfigIssue[] {
  const validate = compileSchema(ajv, schema);
  if (validate(value)) {
    return [];
  }
  return toIssues(validate.errors ?? [], value, basePath, source);
}

/**
 * Returns the branch of `schema` that applies to `value`. While the schema is only an
 * `if`/`then`/`else`, the walk tests its `if` and goes on into `then` or `else`. Validating
 * `value` against the result reports what validating it against `schema` reports, without the
 * `if` errors. The config schema chains every route kind, provider and delivery mode this way.
 * Compiling it whole took 568 ms and 83 MB of RSS on the 2-core benchmark machine, so each
 * route is validated against its own branch, compiled once per distinct branch.
 */
export function applicableBranch(ajv: Ajv, schema: JsonSchema, value: unknown): JsonSchema {
  let current = schema;
  while (isPureConditional(current)) {
    const test = compileSchema(ajv, current.if as JsonSchema);
    const branch = test(value) ? current.then : current.else;
    current = (branch ?? {}) as JsonSchema;
  }
  return current;
}

function isPureConditional(schema: JsonSchema): boolean {
  return (
    schema.if !== undefined &&
    Object.keys(schema).every((key) => key === 'if' || key === 'then' || key === 'else')
  );
}

function toIssues(
  errors: ErrorObject[],
  root: unknown,
  basePath: (string | number)[],
  source: ConfigSource,
): ConfigIssue[] {
  const relevant = pruneAlternatives(errors.filter((error) => error.keyword !== 'if'));
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of relevant) {
    const path = [...basePath, ...pointerToPath(error.instancePath, root)];
    let keyPath = path;
    let atKey = false;
    if (error.keyword === 'additionalProperties') {
      keyPath = [...path, String(error.params.additionalProperty)];
      atKey = true;
    }
    // A value under a secret-named key, or one that the schema marks secret, is never repeated.
    const secret =
      path.some((segment) => typeof segment === 'string' && isSecretKey(segment)) ||
      error.parentSchema?.writeOnly === true ||
      error.parentSchema?.['x-secret'] === true;
    const found = valueAt(root, error.instancePath);
    const { message, hint } = describe(error, secret ? HIDDEN : found);
    const text = `${formatPath(keyPath)}|${message}`;
    if (seen.has(text)) {
      continue;
    }
    seen.add(text);
    issues.push({
      file: source.file,
      ...source.locate(keyPath, atKey),
      path: formatPath(keyPath),
      message,
      hint,
    });
  }
  return issues;
}

/**
 * Drops the per-branch errors of an `anyOf` that has an `x-expected` description and reports the
 * description alone, so `rate_limit: 100/minute` yields one message, not one per branch.
 */
function pruneAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const described = errors.filter(
    (error) => error.keyword === 'anyOf' && error.parentSchema?.['x-expected'],
  );
  const prefixOf = (anyOf: ErrorObject) => anyOf.schemaPath.replace(/\/anyOf$/, '/anyOf/');
  const under = (anyOf: ErrorObject, error: ErrorObject) =>
    anyOf !== error && error.schemaPath.startsWith(prefixOf(anyOf));
  const branchOf = (anyOf: ErrorObject, error: ErrorObject) =>
    error.schemaPath.slice(prefixOf(anyOf).length).split('/')[0];
  // One branch may match the value's shape and fail inside it: an unknown or missing key of the
  // map, or a bad value deeper down. Its errors are then more precise than the summary of the
  // alternatives, so they replace the summary and the other branches' errors.
  const precise = new Map<ErrorObject, string>();
  for (const anyOf of described) {
    const branches = new Set<string>();
    for (const error of errors) {
      if (!under(anyOf, error)) {
        continue;
      }
      const sameValue = error.instancePath === anyOf.instancePath;
      const inside =
        !sameValue || error.keyword === 'additionalProperties' || error.keyword === 'required';
      if (inside) {
        branches.add(branchOf(anyOf, error));
      }
    }
    const shaped = [...branches].filter(
      (branch) =>
        !errors.some(
          (error) =>
            under(anyOf, error) &&
            branchOf(anyOf, error) === branch &&
            error.keyword === 'type' &&
            error.instancePath === anyOf.instancePath,
        ),
    );
    if (shaped.length === 1) {
      precise.set(anyOf, shaped[0]);
    }
  }
  return errors.filter((error) => {
    if (error.keyword === 'anyOf' && !error.parentSchema?.['x-expected']) {
      return false;
    }
    if (precise.has(error)) {
      return false;
    }
    for (const [anyOf, branch] of precise) {
      if (under(anyOf, error) && branchOf(anyOf, error) !== branch) {
        return false;
      }
    }
    return !described.some(
      (anyOf) =>
        !precise.has(anyOf) && under(anyOf, error) && error.instancePath === anyOf.instancePath,
    );
  });
}

/** Stands in for a secret value in an error message. */
const HIDDEN = Symbol('hidden secret');

function describe(error: ErrorObject, found: unknown): { message: string; hint?: string } {
  const shown = showValue(found);
  const expected = error.parentSchema?.['x-expected'] as string | undefined;
  const limit = error.params.limit as number;
  switch (error.keyword) {
    case 'minLength':
    case 'maxLength': {
      // Only the length is shown, because the value may be a secret and its length is the fault.
      const bound = error.keyword === 'minLength' ? 'at least' : 'at most';
      const unit = limit === 1 ? 'character' : 'characters';
      const length = typeof error.data === 'string' ? `, found ${error.data.length}` : '';
      return { message: `expected ${bound} ${limit} ${unit}${length}` };
    }
    case 'minItems':
    case 'maxItems': {
      const bound = error.keyword === 'minItems' ? 'at least' : 'at most';
      const unit = limit === 1 ? 'item' : 'items';
      const count = Array.isArray(error.data) ? `, found ${error.data.length}` : '';
      return { message: `expected ${bound} ${limit} ${unit}${count}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const bounds: Record<string, string> = {
        minimum: 'at least',
        maximum: 'at most',
        exclusiveMinimum: 'more than',
        exclusiveMaximum: 'less than',
      };
      return { message: `expected a number ${bounds[error.keyword]} ${limit}, found ${shown}` };
    }
    case 'additionalProperties': {
      const name = String(error.params.additionalProperty);
      const owners = (
        error.parentSchema?.['x-key-owners'] as Record<string, string[]> | undefined
      )?.[name];
      if (owners) {
        return {
          message: `"${name}" applies with delivery: ${owners.join(' or ')} only`,
          hint: `add delivery: ${owners[0]} to the route, or remove "${name}"`,
        };
      }
      const allowed = Object.keys((error.parentSchema?.properties as object) ?? {});
      const suggestion = closest(name, allowed);
      return {
        message: `unknown key "${name}"`,
        hint: suggestion
          ? `did you mean "${suggestion}"?`
          : `allowed keys here: ${allowed.join(', ') || 'none'}`,
      };
    }
    case 'required':
      return { message: `missing required key "${error.params.missingProperty}"` };
    case 'type':
      return { message: `expected ${expected ?? error.params.type}, found ${shown}` };
    case 'enum':
      return {
        message: `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${shown}`,
      };
    case 'const':
      return { message: `expected ${JSON.stringify(error.params.allowedValue)}, found ${shown}` };
    case 'anyOf':
    case 'oneOf':
    case 'pattern':
    case 'format':
      return { message: `expected ${expected ?? describeKeyword(error)}, found ${shown}` };
    default:
      return { message: `${error.message ?? error.keyword}, found ${shown}` };
  }
}

function describeKeyword(error: ErrorObject): string {
  if (error.keyword === 'pattern') {
    return `a value matching ${error.params.pattern}`;
  }
  if (error.keyword === 'format') {
    return `a value in ${error.params.format} format`;
  }
  return error.message ?? 'a different value';
}

function showValue(value: unknown): string {
  if (value === HIDDEN) {
    return 'a secret value (not shown)';
  }
  if (value === undefined) {
    return 'nothing';
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'object') {
    return 'a map';
  }
  // A URL may carry a password or a token, which an error message must not repeat.
  const text = JSON.stringify(typeof value === 'string' ? redactUrl(value) : value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (!pointer) {
    return [];
  }
  const path: (string | number)[] = [];
  let node = root as Record<string, unknown> | unknown[] | undefined;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(segment));
      node = node[Number(segment)] as never;
    } else {
      path.push(segment);
      node = (node as Record<string, unknown> | undefined)?.[segment] as never;
    }
  }
  return path;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer ? pointer.slice(1).split('/') : []) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  return node;
}

/** Returns the allowed name closest to `name` by edit distance, if it is a plausible typo. */
function closest(name: string, allowed: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of allowed) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
