import { decodeHex, parseUnixSeconds } from '../../core/index.js';

/** A parsed `Stripe-Signature` header. */
export interface StripeSignatureHeader {
  /** The `t=` value exactly as sent, which is what Stripe signed. */
  timestampText: string;
  timestamp: number;
  /** Decoded `v1=` signatures; one per active secret during a roll. */
  signatures: Buffer[];
}

/** A reason a `Stripe-Signature` header could not be parsed. */
export interface StripeHeaderProblem {
  reason: 'signature_malformed' | 'signature_missing' | 'timestamp_missing';
  message: string;
}

const SHA256_BYTES = 32;

/**
 * Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`. Only `v1` is read: `v0` and unknown schemes
 * are skipped, so a request cannot downgrade the check to a weaker scheme.
 */
export function parseStripeSignature(value: string): StripeSignatureHeader | StripeHeaderProblem {
  const timestamps: string[] = [];
  const signatures: Buffer[] = [];
  for (const item of value.split(',')) {
    const separator = item.indexOf('=');
    if (separator <= 0) {
      return malformed('every item must be key=value, such as t=1700000000 or v1=<hex>');
    }
    const key = item.slice(0, separator).trim();
    const text = item.slice(separator + 1).trim();
    if (key === 't') {
      timestamps.push(text);
    } else if (key === 'v1') {
      const signature = decodeHex(text, SHA256_BYTES);
      if (!signature) {
        return malformed('a v1 signature is not 64 hexadecimal digits');
      }
      signatures.push(signature);
    }
  }
  return assemble(timestamps, signatures);
}

function assemble(
  timestamps: string[],
  signatures: Buffer[],
): StripeSignatureHeader | StripeHeaderProblem {
  if (timestamps.length === 0) {
    return { reason: 'timestamp_missing', message: 'Stripe-Signature has no t= timestamp' };
  }
  if (timestamps.length > 1) {
    return malformed('Stripe-Signature has more than one t= timestamp');
  }
  const timestamp = parseUnixSeconds(timestamps[0]);
  if (timestamp === undefined) {
    return malformed('the t= timestamp is not unix seconds');
  }
  if (signatures.length === 0) {
    return {
      reason: 'signature_missing',
      message: 'Stripe-Signature has no v1 signature (v0 and other schemes are not accepted)',
    };
  }
  return { timestampText: timestamps[0], timestamp, signatures };
}

function malformed(detail: string): StripeHeaderProblem {
  return { reason: 'signature_malformed', message: `malformed Stripe-Signature: ${detail}` };
}
