import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DeployError } from './errors.js';

/** A podman release number. */
export interface PodmanVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Quadlet, podman's systemd generator, first shipped in podman 4.4.0. */
export const MIN_QUADLET_VERSION: PodmanVersion = { major: 4, minor: 4, patch: 0 };

/** Parses `4.4`, `4.9.3` or the output of `podman --version` ("podman version 5.4.2"). */
export function parsePodmanVersion(text: string): PodmanVersion | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) {
    return undefined;
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0) };
}

export function formatVersion(version: PodmanVersion): string {
  return `${version.major}.${version.minor}.${version.patch}`;
}

/** Returns true when `version` is `minimum` (such as "4.5") or newer. */
export function isAtLeast(version: PodmanVersion, minimum: string): boolean {
  const floor = parsePodmanVersion(minimum) as PodmanVersion;
  if (version.major !== floor.major) {
    return version.major > floor.major;
  }
  if (version.minor !== floor.minor) {
    return version.minor > floor.minor;
  }
  return version.patch >= floor.patch;
}

const INSTALL_HINT =
  'Install podman 4.4 or newer: Debian 13 and Ubuntu 24.04 ship it (apt-get install podman), ' +
  'as do Fedora and RHEL 9.2+ (dnf install podman). Debian 12 ships podman 4.3, which has no ' +
  'Quadlet; upgrade to Debian 13 or use another distribution.';

/**
 * Runs `podman --version` and returns the version, or throws a {@link DeployError} whose message explains
 * how to install a podman with Quadlet.
 */
export function detectPodmanVersion(env: NodeJS.ProcessEnv = process.env): PodmanVersion {
  let output: string;
  try {
    output = execFileSync('podman', ['--version'], { env, encoding: 'utf8', timeout: 10_000 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'podman is not installed' : (error as Error).message;
    throw new DeployError(`${reason}. ${INSTALL_HINT}`);
  }
  const version = parsePodmanVersion(output);
  if (!version) {
    throw new DeployError(`cannot read a version from \`podman --version\`: "${output.trim()}"`);
  }
  if (!isAtLeast(version, '4.4')) {
    throw new DeployError(
      `podman ${formatVersion(version)} is installed, but Quadlet needs podman 4.4 or newer. ${INSTALL_HINT}`,
    );
  }
  return version;
}

/** Places where distributions install the Quadlet generator. */
const QUADLET_PATHS = ['/usr/libexec/podman/quadlet', '/usr/lib/podman/quadlet'];

/**
 * Finds the Quadlet generator binary: `$PACTOWN_QUADLET` when set, else the distribution paths.
 * Returns undefined when none exists.
 */
export function findQuadletGenerator(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env.PACTOWN_QUADLET ? [env.PACTOWN_QUADLET] : QUADLET_PATHS;
  return candidates.find((path) => existsSync(path));
}
