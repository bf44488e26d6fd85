import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';

/** A secret written into the config text instead of a `${...}` reference. */
export interface InlineSecret {
  /** Key path such as `routes[1].secret`. */
  path: string;
  /** 1-based line in the source file. */
  line: number;
}

/** Key names whose values are credentials. */
const SECRET_NAMES = new Set([
  'secret',
  'secrets',
  'token',
  'password',
  'passwd',
  'authorization',
  'cookie',
  'api_key',
  'api-key',
  'x-api-key',
  'private_key',
  'keys',
]);

/** Key name endings that mark a credential, as in `client_secret` or `x-auth-token`. */
const SECRET_SUFFIX = /[-_](secret|token|password|api[-_]key)$/i;

/** A `${NAME}` or `${NAME:-default}` reference; the default is captured. */
const REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}/g;

/** A URL whose user information has a password, such as `redis://:pw@host`. */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i;

function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.toLowerCase()) || SECRET_SUFFIX.test(name);
}

/**
 * Finds the credentials that config text contains as values: scalars under keys such as `secret`,
 * `token`, `keys` or `client_secret`, and URLs with a password, unless they are `${...}`
 * references without a default. The names follow the built-in plugins' options, so a community plugin's secret
 * under another name is not found.
 */
export function findInlineSecrets(yaml: string, firstLine = 1): InlineSecret[] {
  const lines = new LineCounter();
  const document = parseDocument(yaml, { lineCounter: lines });
  const found: InlineSecret[] = [];
  visit(document, {
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || node.value === '') {
        return;
      }
      // A reference is fine unless its default is the secret itself: `${KEY:-the-key}`.
      const literal = node.value.replace(
        REFERENCE,
        (_match, fallback: string | undefined) => fallback ?? '',
      );
      if (literal.trim() === '') {
        return;
      }
      const path = keyPath(ancestors, node);
      const underSecret = path.some((part) => typeof part === 'string' && isSecretName(part));
      if (!underSecret && !URL_PASSWORD.test(literal)) {
        return;
      }
      // A key is not a value: `keys: {ci: ...}` names the key `ci`, whose value is the secret.
      const parent = ancestors.at(-1);
      if (isPair(parent) && parent.key === node) {
        return;
      }
      found.push({
        path: formatPath(path),
        line: lines.linePos(node.range?.[0] ?? 0).line + firstLine - 1,
      });
    },
  });
  return found;
}

/** Returns the key path from the document root to `node`: map keys and list indexes. */
function keyPath(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  for (let index = 0; index < ancestors.length; index++) {
    const ancestor = ancestors[index];
    const child = ancestors[index + 1] ?? node;
    if (isPair(ancestor) && ancestor.value === child && isScalar(ancestor.key)) {
      path.push(String(ancestor.key.value));
    } else if (isSeq(ancestor)) {
      path.push(ancestor.items.indexOf(child as never));
    } else if (isMap(ancestor)) {
    }
  }
  return path;
}

function formatPath(path: (string | number)[]): string {
  return path
    .map((part, index) => {
      if (typeof part === 'number') {
        return `[${part}]`;
      }
      return index === 0 ? part : `.${part}`;
    })
    .join('');
}
