/** Replaces secrets in config values for `/routes`, logs and CLI output. */

const SECRET_KEY =
  /(secret|token|password|passwd|passphrase|private|api[_-]?keys?$|credential|authorization|signing[_-]?key|^keys$|^key_file$|^users$)/i;

const SECRET_VARIABLE = /(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_KEY|_KEY$)/;

/** Tells whether a config key, such as `signing_secret` or `authorization`, names a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** The placeholder that stands for a secret. */
export const REDACTED = '***';

/** Builds a redactor that hides secret-named keys and the values of secret-named variables. */
export function createRedactor(env: NodeJS.ProcessEnv, variables: Iterable<string>) {
  const secretValues = new Set<string>();
  for (const name of variables) {
    const value = env[name];
    if (SECRET_VARIABLE.test(name) && value && value.length >= 4) {
      secretValues.add(value);
    }
  }
  const redact = (value: unknown, key = ''): unknown => {
    if (value === null || value === undefined) {
      return value;
    }
    if (SECRET_KEY.test(key) && typeof value !== 'boolean') {
      return REDACTED;
    }
    if (typeof value === 'string') {
      return redactString(value, secretValues);
    }
    if (Array.isArray(value)) {
      return value.map((item) => redact(item, key));
    }
    if (typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, item]) => [
          name,
          redact(item, name),
        ]),
      );
    }
    return value;
  };
  return redact;
}

function redactString(value: string, secretValues: Set<string>): string {
  let text = value;
  for (const secret of secretValues) {
    if (text.includes(secret)) {
      text = text.split(secret).join(REDACTED);
    }
  }
  return redactUrl(text);
}

/**
 * Hides the user information and the values of secret-named query parameters of a URL; any
 * other text is returned unchanged.
 */
export function redactUrl(text: string): string {
  if (!URL_SCHEME.test(text)) {
    return text;
  }
  // A URL's user information carries a password.
  return redactQuery(text.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i, `$1${REDACTED}@`));
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Query parameter names that carry credentials, such as `?access_token=` or `?sig=`. */
const SECRET_PARAMETER = /(secret|token|password|passwd|key|sig|auth|credential|session)/i;

/** Replaces the values of secret-named query parameters, keeping the rest of the URL verbatim. */
function redactQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) {
    return url;
  }
  const hash = url.indexOf('#', start);
  const end = hash === -1 ? url.length : hash;
  const pairs = url.slice(start + 1, end).split('&');
  const redacted = pairs.map((pair) => {
    const equals = pair.indexOf('=');
    if (equals === -1) {
      return pair;
    }
    const name = pair.slice(0, equals);
    return SECRET_PARAMETER.test(decodeParameterName(name)) ? `${name}=${REDACTED}` : pair;
  });
  return `${url.slice(0, start + 1)}${redacted.join('&')}${url.slice(end)}`;
}

function decodeParameterName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** Replaces the values that `schema` marks `writeOnly: true`, following nested properties. */
export function redactWriteOnly(
  value: unknown,
  schema: Record<string, unknown> | undefined,
): unknown {
  if (!schema || value === null || value === undefined) {
    return value;
  }
  if (schema.writeOnly === true) {
    return REDACTED;
  }
  if (Array.isArray(value)) {
    const items = schema.items as Record<string, unknown> | undefined;
    return value.map((item) => redactWriteOnly(item, items));
  }
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (typeof value === 'object' && properties) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        redactWriteOnly(item, properties[key]),
      ]),
    );
  }
  return value;
}
