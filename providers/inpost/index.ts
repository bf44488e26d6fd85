import {
  definePlugin,
  hmacSha256,
  PLUGIN_API_VERSION,
  type WebhookOptionsProblem,
  type WebhookProvider,
  type WebhookProviderOptions,
} from '../../core/index.js';
import { createAllowList, parseAllowEntry } from './allow-list.js';
import {
  DEFAULT_INPOST_MODE,
  INPOST_SHIPX_SOURCES,
  type InpostMode,
  type InpostOptions,
  inpostOptionsSchema,
  signedStringOf,
} from './schema.js';
import { verifyShipx } from './shipx.js';
import { verifyInpostHmac, verifyInpostLegacy } from './signed.js';

function modeOf(options: InpostOptions): InpostMode {
  return options.mode ?? DEFAULT_INPOST_MODE;
}

/** Keys that only one mode reads; setting them in another mode would check nothing. */
const MODE_KEYS: Record<string, InpostMode> = {
  allow: 'shipx',
  token: 'shipx',
  signed: 'hmac',
  require_timestamp: 'hmac',
};

function checkInpost(options: InpostOptions & WebhookProviderOptions): WebhookOptionsProblem[] {
  const mode = modeOf(options);
  const problems: WebhookOptionsProblem[] = [];
  for (const [key, owner] of Object.entries(MODE_KEYS)) {
    if (options[key as keyof InpostOptions] !== undefined && owner !== mode) {
      problems.push({
        path: [key],
        message: `${key}: applies to mode: ${owner} only, not ${mode}`,
      });
    }
  }
  if (options.signed !== undefined && options.require_timestamp !== undefined) {
    problems.push({
      path: ['require_timestamp'],
      message: 'require_timestamp is the older name of signed; keep only signed',
    });
  }
  if (mode === 'shipx' && options.secrets.length > 0) {
    problems.push({
      path: ['secret'],
      message: 'shipx webhooks carry no signature, so secret: would check nothing; use token:',
    });
  }
  for (const [index, entry] of (options.allow ?? []).entries()) {
    if (!parseAllowEntry(entry)) {
      problems.push({
        path: ['allow', index],
        message: `"${entry}" is not an IP address or CIDR range such as 91.216.25.0/24`,
      });
    }
  }
  if (options.token === '') {
    problems.push({ path: ['token'], message: 'token is an empty string; set a long random one' });
  }
  return problems;
}

function createInpost(
  options: InpostOptions & WebhookProviderOptions,
  routePath: string,
): WebhookProvider {
  const mode = modeOf(options);
  if (mode === 'shipx') {
    const check = {
      isAllowed: createAllowList(options.allow ?? INPOST_SHIPX_SOURCES),
      token: options.token,
      routePath,
    };
    return {
      verify: (request) => verifyShipx(request, check),
      // InPost requests the URL with GET when the webhook is registered and expects a 200.
      probe: () => ({ status: 200, body: { status: 'ok', provider: 'inpost' }, final: true }),
    };
  }
  if (mode === 'hmac') {
    const settings = { ...options, signed: signedStringOf(options) };
    return { verify: (request) => verifyInpostHmac(request, settings) };
  }
  return { verify: (request) => verifyInpostLegacy(request, options) };
}

/**
 * InPost webhooks in three modes: `shipx` (no signature: source allow-list and URL token),
 * `hmac` (InPost Group API, base64 HMAC-SHA256) and `legacy` (the original service's form).
 */
export default definePlugin({
  name: 'inpost',
  kind: 'webhook-provider',
  apiVersion: PLUGIN_API_VERSION,
  description: 'InPost ShipX (allow-list and token), Group API HMAC or the legacy sha256= form',
  optionsSchema: inpostOptionsSchema,
  secretEnv: 'INPOST_WEBHOOK_SECRET',
  requiresSecret: (options: InpostOptions) => modeOf(options) !== 'shipx',
  subpaths: (options: InpostOptions) => modeOf(options) === 'shipx' && options.token !== undefined,
  check: checkInpost,
  sign({ body, secret, timestamp, id, options }): Record<string, string> {
    const mode = modeOf(options);
    if (mode === 'shipx') {
      return {};
    }
    if (mode === 'hmac' && signedStringOf(options) === 'body') {
      return {
        'x-inpost-signature': hmacSha256(secret, body).toString('base64'),
        'x-inpost-event-id': id,
      };
    }
    if (mode === 'hmac') {
      return {
        'x-inpost-signature': hmacSha256(secret, `${timestamp}.`, body).toString('base64'),
        'x-inpost-timestamp': String(timestamp),
        'x-inpost-event-id': id,
      };
    }
    return { 'X-InPost-Signature': `sha256=${hmacSha256(secret, body).toString('hex')}` };
  },
  create: (options: InpostOptions & WebhookProviderOptions, context) =>
    createInpost(options, context.route.path),
});
