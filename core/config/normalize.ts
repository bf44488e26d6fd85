import type { OptionsIssue, PluginCheckContext, PolicyPlugin } from '../plugin-api.js';
import { PluginRegistry } from '../registry.js';
import { type ConfigIssue, formatPath } from './issues.js';
import type { ConfigSource } from './source.js';
import type { GatewayConfig, PluginRef, RouteConfig, ServerConfig } from './types.js';
import { parseDuration, parseSize } from './units.js';
import { type createAjv, validateAt } from './validate.js';

/** Paths that the gateway serves itself; a route may not take them. */
export const RESERVED_PATHS = ['/health', '/stats', '/routes', '/metrics', '/admin'];

interface NormalizeContext {
  file: string;
  dir: string;
  registry: PluginRegistry;
  env: NodeJS.ProcessEnv;
  ajv: ReturnType<typeof createAjv>;
  source: ConfigSource;
}

type Path = (string | number)[];

type ReportIssue = (path: Path, message: string, hint?: string) => void;

/** Turns a schema-valid document into a {@link GatewayConfig}, collecting the problems left. */
export function normalizeConfig(
  document: Record<string, unknown>,
  context: NormalizeContext,
): { config?: GatewayConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const issue = (path: Path, message: string, hint?: string) =>
    issues.push({
      file: context.file,
      ...context.source.locate(path),
      path: formatPath(path),
      message,
      hint,
    });

  const server = normalizeServer(
    (document.server ?? {}) as Record<string, unknown>,
    context.env,
    issue,
  );
  // Where each policy reference is written, so `check` problems point at its options.
  const written = new Map<PluginRef, Path>();
  const globalPlugins = resolveRefs(
    document.global_plugins,
    ['global_plugins'],
    true,
    context,
    issue,
    written,
  );
  const globalNames = new Set(globalPlugins.map((ref) => ref.name));
  const routes: RouteConfig[] = [];
  const seenPaths = new Map<string, number>();
  const rawRoutes = (document.routes ?? []) as Record<string, unknown>[];

  for (const [index, raw] of rawRoutes.entries()) {
    const base: Path = ['routes', index];
    const kind = context.registry.selectRouteKind(raw);
    if (!kind) {
      issue(base, 'no route kind can serve this route');
      continue;
    }
    const path = (raw.path as string | undefined) ?? kind.defaultPath?.(raw);
    if (!path) {
      issue(base, 'missing required key "path"');
      continue;
    }
    const normalizedPath = path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
    const previous = seenPaths.get(normalizedPath);
    if (previous !== undefined) {
      issue(
        [...base, 'path'],
        `path "${path}" is already used by routes[${previous}]`,
        'give each route its own path',
      );
    }
    seenPaths.set(normalizedPath, index);
    const reserved = RESERVED_PATHS.find(
      (taken) => normalizedPath === taken || normalizedPath.startsWith(`${taken}/`),
    );
    if (reserved) {
      issue([...base, 'path'], `path "${path}" is reserved for the gateway's ${reserved} endpoint`);
    }
    for (const problem of kind.check?.(raw, context.registry, context.env) ?? []) {
      issue([...base, ...problem.path], problem.message);
    }
    const excluded = new Set((raw.exclude as string[] | undefined) ?? []);
    for (const [position, name] of [...excluded].entries()) {
      if (!globalNames.has(name)) {
        issue(
          [...base, 'exclude', position],
          `"${name}" is not in global_plugins, so it cannot be excluded`,
        );
      }
    }
    const policies = [
      ...globalPlugins.filter((ref) => !excluded.has(ref.name)),
      ...shorthandRefs(raw, base, context.registry, written),
      ...resolveRefs(raw.plugins, [...base, 'plugins'], false, context, issue, written),
    ];
    reportDuplicates(policies, base, issue);
    const route: RouteConfig = { path, kind: kind.name, index, policies, raw };
    checkPolicies(route, written, context, issue);
    routes.push(route);
  }

  const defaults = normalizeDefaults(context.env, issue);
  return {
    issues,
    config: {
      file: context.file,
      dir: context.dir,
      server,
      pluginModules: (document.plugins as string[] | undefined) ?? [],
      globalPlugins,
      routes,
      defaultTimeout: defaults.timeout,
      defaultRetries: defaults.retries,
      raw: document,
    },
  };
}

function normalizeServer(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  issue: (path: Path, message: string, hint?: string) => void,
): ServerConfig {
  let port = raw.port as number | undefined;
  if (port === undefined && env.PORT) {
    port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      issue(['server'], `environment variable PORT is "${env.PORT}", expected a port number`);
      port = 8080;
    }
  }
  const trust = raw.trust_proxy;
  const trustProxy = Array.isArray(trust)
    ? (trust as string[])
    : typeof trust === 'string'
      ? trust
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
      : [];
  return {
    port: port ?? 8080,
    host: (raw.host as string | undefined) ?? env.HOST ?? '0.0.0.0',
    trustProxy,
    bodyLimit: parseSize((raw.body_limit as string | number | undefined) ?? '1mb'),
    headersTimeout: parseDuration((raw.headers_timeout as string | number | undefined) ?? 10),
    requestTimeout: parseDuration((raw.request_timeout as string | number | undefined) ?? 300),
    keepAliveTimeout: parseDuration((raw.keep_alive_timeout as string | number | undefined) ?? 72),
    shutdownTimeout: parseDuration((raw.shutdown_timeout as string | number | undefined) ?? 10),
    logLevel: (raw.log_level as string | undefined) ?? env.LOG_LEVEL ?? 'info',
    accessLog: (raw.access_log as boolean | undefined) ?? false,
  };
}

function normalizeDefaults(
  env: NodeJS.ProcessEnv,
  issue: (path: Path, message: string, hint?: string) => void,
): { timeout: number; retries: number } {
  let timeout = 30_000;
  let retries = 3;
  if (env.DEFAULT_TIMEOUT) {
    const seconds = Number(env.DEFAULT_TIMEOUT);
    if (Number.isFinite(seconds) && seconds > 0) {
      timeout = seconds * 1000;
    } else {
      issue(
        [],
        `environment variable DEFAULT_TIMEOUT is "${env.DEFAULT_TIMEOUT}", expected seconds > 0`,
      );
    }
  }
  if (env.MAX_RETRIES) {
    const count = Number(env.MAX_RETRIES);
    // The same range as a route's `retries:`, which the schema bounds.
    if (Number.isInteger(count) && count >= 0 && count <= 10) {
      retries = count;
    } else {
      issue(
        [],
        `environment variable MAX_RETRIES is "${env.MAX_RETRIES}", expected a whole number from 0 to 10`,
      );
    }
  }
  return { timeout, retries };
}

/** Lists the policies a route enables through shorthand keys, in their fixed order. */
function shorthandRefs(
  raw: Record<string, unknown>,
  base: Path,
  registry: PluginRegistry,
  written: Map<PluginRef, Path>,
): PluginRef[] {
  return registry
    .list('policy')
    .filter((policy) => policy.routeKey !== undefined && raw[policy.routeKey] !== undefined)
    .sort((a, b) => (a.shorthandOrder ?? 100) - (b.shorthandOrder ?? 100))
    .map((policy) => {
      const key = policy.routeKey as string;
      const ref = { name: policy.name, options: expand(policy, raw[key]), global: false };
      written.set(ref, [...base, key]);
      return ref;
    });
}

function expand(policy: PolicyPlugin, value: unknown): unknown {
  return policy.expandShorthand ? policy.expandShorthand(value) : value;
}

/** Resolves a `plugins:` list to policies, validating each one's options. */
function resolveRefs(
  list: unknown,
  basePath: Path,
  global: boolean,
  context: NormalizeContext,
  issue: ReportIssue,
  written: Map<PluginRef, Path>,
): PluginRef[] {
  if (!Array.isArray(list)) {
    return [];
  }
  const refs: PluginRef[] = [];
  for (const [index, entry] of list.entries()) {
    const path = [...basePath, index];
    const [name, options] =
      typeof entry === 'string' ? [entry, undefined] : Object.entries(entry as object)[0];
    const policy = context.registry.get('policy', name);
    if (!policy) {
      const other = context.registry.findAnyKind(name);
      const known = context.registry.list('policy').map((candidate) => candidate.name);
      issue(
        path,
        other
          ? `"${name}" is ${/^[aeiou]/.test(other.kind) ? 'an' : 'a'} ${other.kind} plugin, not a policy`
          : `unknown plugin "${name}"`,
        other
          ? undefined
          : `known policies: ${known.join(', ') || 'none'}; load others with the top-level plugins: list`,
      );
      continue;
    }
    const schema = PluginRegistry.optionsSchemaOf(policy);
    // A bare name means no options; a policy without optionsSchema takes any object, so `{}`.
    const value = options ?? {};
    const problems = validateAt(context.ajv, schema, value, [...path, name], context.source);
    if (problems.length > 0 && typeof entry === 'string') {
      const expected = schema['x-expected'];
      issue(
        path,
        `"${name}" needs options here, written as a map: - ${name}: <options>`,
        typeof expected === 'string'
          ? `expected ${expected}`
          : `expected ${problems[0].message.replace(/^expected /, '').replace(/, found a map$/, '')}`,
      );
      continue;
    }
    if (problems.length > 0) {
      for (const problem of problems) {
        issue(
          pathFromText(problem.path),
          `invalid options for "${name}": ${problem.message}`,
          problem.hint,
        );
      }
      continue;
    }
    const ref = { name, options: expand(policy, value), global };
    written.set(ref, typeof entry === 'string' ? path : [...path, name]);
    refs.push(ref);
  }
  return refs;
}

/**
 * Runs each policy's `check` on a route's expanded options. A global policy is checked on every
 * route that runs it, and its problems name that route.
 */
function checkPolicies(
  route: RouteConfig,
  written: Map<PluginRef, Path>,
  context: NormalizeContext,
  issue: ReportIssue,
): void {
  const checkContext: PluginCheckContext = {
    registry: context.registry,
    env: context.env,
    configDir: context.dir,
    route,
    validate: (schema, value) =>
      validateAt(context.ajv, schema, value, [], context.source).map((problem) => ({
        path: pathFromText(problem.path),
        message: problem.message,
        hint: problem.hint,
      })),
  };
  for (const ref of route.policies) {
    const policy = context.registry.get('policy', ref.name);
    if (!policy?.check) {
      continue;
    }
    const at = written.get(ref) ?? ['routes', route.index];
    let problems: OptionsIssue[];
    try {
      problems = policy.check(ref.options, checkContext);
    } catch (error) {
      problems = [{ path: [], message: `check failed: ${(error as Error).message}` }];
    }
    // The key path already names a route's own policy; a global one needs the route named.
    const where = ref.global ? `${ref.name} on route "${route.path}": ` : '';
    for (const problem of problems) {
      issue([...at, ...problem.path], `${where}${problem.message}`, problem.hint);
    }
  }
}

function reportDuplicates(policies: PluginRef[], base: Path, issue: ReportIssue): void {
  const seen = new Set<string>();
  for (const ref of policies) {
    if (seen.has(ref.name)) {
      issue(
        base,
        `policy "${ref.name}" is enabled twice on this route`,
        ref.global ? undefined : 'remove the duplicate, or list it under exclude: if it is global',
      );
    }
    seen.add(ref.name);
  }
}

/** Parses `routes[0].plugins[1].cors.origin` back into a key path. */
function pathFromText(text: string): Path {
  return text
    .split(/\.|(?=\[)/)
    .filter(Boolean)
    .map((segment) => (segment.startsWith('[') ? Number(segment.slice(1, -1)) : segment));
}
