import { parseDocument, visit } from 'yaml';

/** `${NAME}` and `${NAME:-default}` substitution from the environment; `$${` writes a literal `${`. */

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A reference to an unset variable that has no default. */
export interface MissingVariable {
  name: string;
}

/** Result of substituting one string. */
export interface Substitution {
  value: string;
  missing: MissingVariable[];
  /** Names of the variables that were read. */
  names: string[];
}

/** Substitutes every reference in `text` from `env`. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv): Substitution {
  const missing: MissingVariable[] = [];
  const names: string[] = [];
  const value = text.replace(REFERENCE, (whole, name: string | undefined, fallback?: string) => {
    if (whole === '$${') {
      return '${';
    }
    const variable = name as string;
    names.push(variable);
    const found = env[variable];
    if (found !== undefined && found !== '') {
      return found;
    }
    if (fallback !== undefined) {
      return fallback;
    }
    if (found === '') {
      return '';
    }
    missing.push({ name: variable });
    return '';
  });
  return { value, missing, names };
}

/**
 * Lists the variables that the scalar values of YAML `text` reference, in order of first use,
 * for `.env.example` files. Comments and keys are left out, because the loader substitutes
 * values only.
 */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  visit(parseDocument(text), {
    Scalar: (key, node) => {
      if (key === 'key' || typeof node.value !== 'string') {
        return;
      }
      for (const match of node.value.matchAll(REFERENCE)) {
        if (match[1]) {
          names.add(match[1]);
        }
      }
    },
  });
  return [...names];
}
