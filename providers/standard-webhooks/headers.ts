import {
  decodeBase64,
  parseUnixSeconds,
  readSingleHeader,
  type WebhookRequest,
} from '../../core/index.js';

/** The three signed headers, read under `webhook-*` or Svix's `svix-*` names. */
export interface StandardHeaders {
  id: string;
  timestampText: string;
  timestamp: number;
  /** Decoded `v1,<base64>` signatures; other versions (such as `v1a`) are skipped. */
  signatures: Buffer[];
}

/** A reason the headers cannot be verified. */
export interface StandardHeaderProblem {
  reason: string;
  message: string;
}

/** Returns the header prefix of a request: `webhook-` when any such header is present, else `svix-`. */
function prefixOf(headers: WebhookRequest['headers']): string {
  const standard = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
  return standard.some((name) => headers[name] !== undefined) ? 'webhook-' : 'svix-';
}

function readOnce(
  headers: WebhookRequest['headers'],
  name: string,
  missingReason: string,
): string | StandardHeaderProblem {
  const header = readSingleHeader(headers, name);
  if (header.status === 'missing') {
    return { reason: missingReason, message: `missing ${name} header` };
  }
  if (header.status === 'repeated') {
    return { reason: 'signature_malformed', message: `${name} header sent more than once` };
  }
  return header.value.trim();
}

/** Parses the space-separated `v1,<base64>` list. */
export function parseSignatureList(value: string): Buffer[] | StandardHeaderProblem {
  const signatures: Buffer[] = [];
  for (const entry of value.split(' ').filter(Boolean)) {
    const comma = entry.indexOf(',');
    if (comma <= 0) {
      return { reason: 'signature_malformed', message: 'a signature is not <version>,<base64>' };
    }
    if (entry.slice(0, comma) !== 'v1') {
      continue;
    }
    const signature = decodeBase64(entry.slice(comma + 1), 32);
    if (!signature) {
      return { reason: 'signature_malformed', message: 'a v1 signature is not a base64 SHA-256' };
    }
    signatures.push(signature);
  }
  if (signatures.length === 0) {
    return { reason: 'signature_missing', message: 'the signature header has no v1 signature' };
  }
  return signatures;
}

/** Reads and parses the id, timestamp and signature headers. */
export function readStandardHeaders(
  headers: WebhookRequest['headers'],
): StandardHeaders | StandardHeaderProblem {
  const prefix = prefixOf(headers);
  const id = readOnce(headers, `${prefix}id`, 'id_missing');
  const timestampText = readOnce(headers, `${prefix}timestamp`, 'timestamp_missing');
  const list = readOnce(headers, `${prefix}signature`, 'signature_missing');
  for (const value of [list, id, timestampText]) {
    if (typeof value !== 'string') {
      return value;
    }
  }
  // The official libraries reject an empty id, and events without one would share a dedupe key.
  if (id === '') {
    return { reason: 'id_missing', message: `${prefix}id header is empty` };
  }
  const timestamp = parseUnixSeconds(timestampText as string);
  if (timestamp === undefined) {
    return { reason: 'timestamp_malformed', message: `${prefix}timestamp is not unix seconds` };
  }
  const signatures = parseSignatureList(list as string);
  if (!Array.isArray(signatures)) {
    return signatures;
  }
  return { id: id as string, timestampText: timestampText as string, timestamp, signatures };
}
