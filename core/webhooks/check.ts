import type { PluginRegistry } from '../registry.js';
import type { RouteIssue } from '../routes/kind.js';
import { checkTargetUserinfo } from '../routes/target.js';
import {
  needsSecret,
  providerCreateOptions,
  readWebhookSettings,
  type WebhookSettings,
} from './settings.js';

/**
 * Start checks of a schema-valid webhook route. A route that needs a secret and has none, or
 * whose secret is empty after `${...}` substitution, does not start.
 */
export function checkWebhookRoute(
  raw: Record<string, unknown>,
  registry: PluginRegistry,
  env: NodeJS.ProcessEnv,
): RouteIssue[] {
  const settings = readWebhookSettings(raw, registry, env);
  return [
    ...checkTargetUserinfo(raw),
    ...checkPath(settings.path, raw.path !== undefined),
    ...checkSecrets(settings),
    ...checkTolerance(settings),
    ...(settings.plugin.check?.(providerCreateOptions(settings) as never) ?? []),
  ];
}

function checkPath(path: string, written: boolean): RouteIssue[] {
  if (/[*:]/.test(path)) {
    return [
      {
        path: written ? ['path'] : ['provider'],
        message: `webhook path "${path}" contains "*" or ":"; a webhook route serves one exact path`,
      },
    ];
  }
  return [];
}

function checkSecrets(settings: WebhookSettings): RouteIssue[] {
  const { plugin, secrets, secretSource } = settings;
  const issues: RouteIssue[] = [];
  if (secretSource === 'none') {
    if (needsSecret(plugin, settings.providerOptions)) {
      const fromEnv = plugin.secretEnv ? `, or set ${plugin.secretEnv}` : '';
      issues.push({
        path: [],
        message: `provider "${plugin.name}" needs a secret to verify signatures: add secret:${fromEnv}`,
      });
    }
    return issues;
  }
  for (const [index, secret] of secrets.entries()) {
    const path = secretPath(secretSource, secrets.length, index);
    if (secret.trim() === '') {
      issues.push({
        path,
        message: `secret is ${secret === '' ? 'an empty string' : 'only whitespace'}, which anyone can sign with; set the environment variable it references to the real secret`,
      });
      continue;
    }
    const problem = plugin.validateSecret?.(secret);
    if (problem) {
      issues.push({ path, message: `invalid secret for provider "${plugin.name}": ${problem}` });
    }
  }
  return issues;
}

/** Returns the key path of one secret: the route for a variable, else `secret` or `secret[i]`. */
function secretPath(source: string, count: number, index: number): (string | number)[] {
  if (source === 'env') {
    return [];
  }
  return count > 1 ? ['secret', index] : ['secret'];
}

function checkTolerance(settings: WebhookSettings): RouteIssue[] {
  if (settings.tolerance < 1) {
    return [
      {
        path: ['tolerance'],
        message: `tolerance is ${settings.tolerance} s; it must be at least 1 s, default 300`,
      },
    ];
  }
  return [];
}
