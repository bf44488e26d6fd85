import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CryptoKey, importSPKI } from 'jose';
import type { OptionsIssue } from '../../core/index.js';
import { HMAC_ALGORITHMS, type JwtOptions, PUBLIC_KEY_ALGORITHMS } from './options.js';

/** Source of the scheme's verification keys. */
export type KeySource =
  | { kind: 'secret'; secret: Uint8Array }
  | { kind: 'public-key'; key: KeyObject }
  | { kind: 'jwks'; url: URL };

/** The key source of a route with its algorithm allow-list, or the problems that prevent it. */
export interface ResolvedKeys {
  source?: KeySource;
  algorithms: string[];
  issues: OptionsIssue[];
}

const KEY_OPTIONS = ['secret', 'public_key', 'public_key_file', 'jwks_url'] as const;

/** Environment variable that gives the secret when a route names no key (`auth: jwt`). */
export const SECRET_ENV = 'JWT_SECRET';

/**
 * Resolves the verification key and the algorithm allow-list. Exactly one of `secret`,
 * `public_key`, `public_key_file` and `jwks_url` may be given; with none, the secret comes from
 * `JWT_SECRET`. An empty or missing secret is a problem, never an open route.
 */
export function resolveKeys(
  options: JwtOptions,
  env: NodeJS.ProcessEnv,
  configDir: string,
): ResolvedKeys {
  const givenSources = KEY_OPTIONS.filter((name) => options[name] !== undefined);
  if (givenSources.length > 1) {
    return failed({
      path: [givenSources[1]],
      message: `give only one of ${KEY_OPTIONS.join(', ')}; found ${givenSources.join(' and ')}`,
    });
  }
  if (options.jwks_url !== undefined) {
    return withAlgorithms(options, { kind: 'jwks', url: new URL(options.jwks_url) }, [
      ...PUBLIC_KEY_ALGORITHMS,
    ]);
  }
  if (options.public_key !== undefined || options.public_key_file !== undefined) {
    return resolvePublicKey(options, configDir);
  }
  return resolveSecret(options, env);
}

function resolveSecret(options: JwtOptions, env: NodeJS.ProcessEnv): ResolvedKeys {
  const text = options.secret ?? env[SECRET_ENV];
  if (text === undefined || text === '') {
    return failed({
      path: options.secret === undefined ? [] : ['secret'],
      message:
        options.secret === undefined
          ? `no verification key: ${SECRET_ENV} is not set`
          : 'the secret is empty',
      hint: `set ${SECRET_ENV}, or give secret:, public_key:, public_key_file: or jwks_url:`,
    });
  }
  const encoding = options.secret_encoding ?? 'utf8';
  if (encoding !== 'utf8' && !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    return failed({ path: ['secret'], message: `the secret is not valid ${encoding}` });
  }
  const secret = new Uint8Array(Buffer.from(text, encoding));
  return withAlgorithms(options, { kind: 'secret', secret }, [...HMAC_ALGORITHMS]);
}

function resolvePublicKey(options: JwtOptions, configDir: string): ResolvedKeys {
  const fromFile = options.public_key_file !== undefined;
  const path = fromFile ? ['public_key_file'] : ['public_key'];
  let pem: string;
  if (fromFile) {
    const file = resolve(configDir, options.public_key_file as string);
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      return failed({ path, message: `cannot read ${file}: ${(error as Error).message}` });
    }
  } else {
    pem = options.public_key as string;
  }
  if (pem.includes('PRIVATE KEY')) {
    return failed({ path, message: 'this is a private key; give the public key (SPKI PEM)' });
  }
  let key: KeyObject;
  try {
    key = pem.includes('BEGIN CERTIFICATE')
      ? new X509Certificate(pem).publicKey
      : createPublicKey(pem);
  } catch (error) {
    return failed({ path, message: `invalid PEM public key: ${(error as Error).message}` });
  }
  const compatible = algorithmsForKey(key);
  if (compatible.length === 0) {
    return failed({ path, message: `unsupported key type "${key.asymmetricKeyType}"` });
  }
  return withAlgorithms(options, { kind: 'public-key', key }, compatible);
}

/** Returns the JWS algorithms that can verify with `key` (RFC 7518 section 3.1, RFC 8037). */
export function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const byCurve: Record<string, string> = {
        prime256v1: 'ES256',
        secp384r1: 'ES384',
        secp521r1: 'ES512',
      };
      return curve && byCurve[curve] ? [byCurve[curve]] : [];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** Checks the written allow-list against what the key can verify; defaults to all of those. */
function withAlgorithms(
  options: JwtOptions,
  source: KeySource,
  compatible: string[],
): ResolvedKeys {
  if (options.algorithms === undefined) {
    return { source, algorithms: compatible, issues: [] };
  }
  const wrong = options.algorithms.filter((algorithm) => !compatible.includes(algorithm));
  if (wrong.length > 0) {
    const keyName = source.kind === 'secret' ? 'a secret' : `this ${describeSource(source)}`;
    return failed({
      path: ['algorithms'],
      message: `${wrong.join(', ')} cannot be verified with ${keyName}; allowed here: ${compatible.join(', ')}`,
      hint: 'HMAC algorithms (HS*) need secret:, the others a public key or jwks_url:',
    });
  }
  return { source, algorithms: options.algorithms, issues: [] };
}

function describeSource(source: KeySource): string {
  return source.kind === 'jwks'
    ? 'JWKS'
    : `${(source as { key: KeyObject }).key.asymmetricKeyType} key`;
}

function failed(issue: OptionsIssue): ResolvedKeys {
  return { algorithms: [], issues: [issue] };
}

/** Imports a verification key for each allowed algorithm, once at start. */
export async function importStaticKeys(
  source: Exclude<KeySource, { kind: 'jwks' }>,
  algorithms: string[],
): Promise<Map<string, CryptoKey>> {
  const keys = new Map<string, CryptoKey>();
  for (const algorithm of algorithms) {
    if (source.kind === 'secret') {
      const hash = `SHA-${algorithm.slice(2)}`;
      const key = (await crypto.subtle.importKey(
        'raw',
        source.secret,
        { name: 'HMAC', hash },
        false,
        ['verify'],
      )) as CryptoKey;
      keys.set(algorithm, key);
    } else {
      const pem = source.key.export({ type: 'spki', format: 'pem' }).toString();
      keys.set(algorithm, await importSPKI(pem, algorithm));
    }
  }
  return keys;
}
