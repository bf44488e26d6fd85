/** Variables the gateway reads itself, whether or not the config references them. */
const GATEWAY_VARIABLES: Record<string, string> = {
  DEFAULT_TIMEOUT: 'default upstream timeout in seconds (30)',
  MAX_RETRIES: 'default retry count for idempotent requests (3)',
  LOG_LEVEL: 'fatal, error, warn, info, debug or trace',
};

/** Variables that the container's command-line flags override, with the flag that wins. */
const OVERRIDDEN_BY_FLAGS: Record<string, string> = {
  PORT: '--port',
  HOST: '--host',
  ROUTES_CONFIG: '--config',
};

/** Options of {@link renderEnvExample}. */
export interface EnvExampleOptions {
  tenant: string;
  /** The container unit's file name, named where it sets a variable itself. */
  unitName: string;
  /** Variables the unit sets with `Environment=`, by name. */
  setByUnit: Record<string, string>;
}

/**
 * Renders `.env.example`: every variable the config references, by name only, so the operator
 * fills in the values in `.env`. No value is read from the deployer's environment.
 */
export function renderEnvExample(variables: string[], options: EnvExampleOptions): string {
  const lines = [
    `# Environment of the ${options.tenant} gateway, read by ${options.unitName} as its EnvironmentFile.`,
    '# Copy this file to .env in the same folder, fill in the values, then: chmod 600 .env',
    '# Keep .env out of version control: it holds the secrets.',
    '',
  ];
  for (const name of variables) {
    lines.push(variableLine(name, options));
  }
  const optional = Object.entries(GATEWAY_VARIABLES).filter(([name]) => !variables.includes(name));
  if (optional.length > 0) {
    lines.push('', '# Optional, read by the gateway itself:');
    for (const [name, meaning] of optional) {
      lines.push(`# ${name}=    ${meaning}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function variableLine(name: string, options: EnvExampleOptions): string {
  const value = options.setByUnit[name];
  if (value !== undefined) {
    return `# ${name} is set to ${value} by ${options.unitName}.`;
  }
  const flag = OVERRIDDEN_BY_FLAGS[name];
  if (flag !== undefined) {
    return `# ${name} has no effect in the container: ${options.unitName} passes ${flag}.`;
  }
  return `${name}=`;
}
