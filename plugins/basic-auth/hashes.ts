import { scrypt, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
/** passlib's scrypt format: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, adapted base64. */
const SCRYPT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/;

/** Upper bounds on scrypt cost parameters, so one login cannot take seconds or gigabytes. */
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;

/** Returns why `hash` cannot be verified, or undefined for a supported bcrypt or scrypt hash. */
export function describeHashProblem(hash: string): string | undefined {
  if (BCRYPT.test(hash)) {
    return undefined;
  }
  const match = SCRYPT.exec(hash);
  if (!match) {
    return 'the hash is neither bcrypt ($2a$, $2b$, $2y$) nor scrypt ($scrypt$ln=...,r=...,p=...$salt$hash)';
  }
  const [logN, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (logN < 1 || logN > MAX_LOG_N || r < 1 || r > MAX_R || p < 1 || p > MAX_P) {
    return `scrypt parameters must be ln 1-${MAX_LOG_N}, r 1-${MAX_R}, p 1-${MAX_P}`;
  }
  return undefined;
}

/** Checks `password` against a bcrypt or scrypt hash; both comparisons take constant time. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (BCRYPT.test(hash)) {
    return bcrypt.compare(password, hash);
  }
  const match = SCRYPT.exec(hash);
  if (!match) {
    return false;
  }
  const N = 2 ** Number(match[1]);
  const r = Number(match[2]);
  const p = Number(match[3]);
  const salt = decodeAdaptedBase64(match[4]);
  const expected = decodeAdaptedBase64(match[5]);
  const derived = await new Promise<Buffer>((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; the default maxmem of 32 MiB is too small past ln=14.
    const maxmem = 128 * N * r * 2 + 1024 * 1024;
    scrypt(password, salt, expected.length, { N, r, p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
  return timingSafeEqual(derived, expected);
}

/** Decodes passlib's adapted base64: `.` in place of `+`, no padding. */
function decodeAdaptedBase64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}
