/** `pactown quadlet`: Podman Quadlet units for the gateway, their lint and their install. */
export {
  CONTAINER_CONFIG_PATH,
  type ConfigCopy,
  configuredPort,
  DATA_MOUNT_PATH,
  prepareConfigCopy,
  STORAGE_VARIABLE,
} from './config-copy.js';
export { type DeployRequest, type DeployResult, deploy } from './deploy.js';
export { renderEnvExample } from './env-example.js';
export { DeployError } from './errors.js';
export { hostNotes, installUnits, quadletUnitDir, startCommands } from './install.js';
export { formatLintIssues, type LintIssue, lintUnitFolder, lintUnits } from './lint.js';
export { extractFencedConfig, isConfigInfo } from './markdown.js';
export {
  MIN_MEMORY,
  MIN_MEMORY_BYTES,
  nodeHeapFlags,
  nodeHeapFlagsForSize,
  parseMemorySize,
} from './node-heap.js';
export {
  detectPodmanVersion,
  findQuadletGenerator,
  formatVersion,
  isAtLeast,
  MIN_QUADLET_VERSION,
  type PodmanVersion,
  parsePodmanVersion,
} from './podman.js';
export { readDeploySource } from './source.js';
export { parseUnit, renderUnit } from './unit-file.js';
export { CADDY_IMAGE, generateDeployment, renderContainerfile, tenantNames } from './units.js';
export { checkSourceConfig } from './validate.js';
