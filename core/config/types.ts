/** A plugin named in a `plugins:` or `global_plugins:` list, with its options. */
export interface PluginRef {
  name: string;
  options: unknown;
  /** Whether the reference came from `global_plugins:`. */
  global: boolean;
}

/** One validated route of the config file. */
export interface RouteConfig {
  /** The path as written: `/api/v1`, `/api/v1/*` or the plain prefix `/api/v1*`. */
  path: string;
  /** Name of the route kind that serves it: `proxy`, `webhook`, or one a module adds. */
  kind: string;
  /** Position in the `routes:` list, for error messages and `/routes`. */
  index: number;
  /** Policies in the order they run: globals first, then shorthands, then `plugins:`. */
  policies: PluginRef[];
  /** Every key as written in the file, after `${...}` substitution. */
  raw: Record<string, unknown>;
}

/** Server settings. */
export interface ServerConfig {
  port: number;
  host: string;
  /** Proxies whose `X-Forwarded-For` is believed, as CIDR ranges or addresses. */
  trustProxy: string[];
  /** Default body limit in bytes for routes that parse a body. */
  bodyLimit: number;
  /** Milliseconds a client has to send the request headers. */
  headersTimeout: number;
  /** Milliseconds a client has to send the whole request. */
  requestTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
  /** Milliseconds that shutdown waits for in-flight requests before closing them. */
  shutdownTimeout: number;
  logLevel: string;
  /** Whether every response is logged at info, as an access log. */
  accessLog: boolean;
}

/** The whole validated config. */
export interface GatewayConfig {
  /** Absolute path of the config file, or `<inline>`. */
  file: string;
  /** Folder that relative paths in the config resolve from. */
  dir: string;
  server: ServerConfig;
  /** Module specifiers from the top-level `plugins:` list. */
  pluginModules: string[];
  globalPlugins: PluginRef[];
  routes: RouteConfig[];
  /** Default upstream timeout in milliseconds (`DEFAULT_TIMEOUT` seconds, else 30 s). */
  defaultTimeout: number;
  /** Default retry count (`MAX_RETRIES`, else 3). */
  defaultRetries: number;
  /** Every top-level key as written, after substitution, for sections that modules own. */
  raw: Record<string, unknown>;
}
