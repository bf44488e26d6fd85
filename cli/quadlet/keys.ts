/**
 * The keys each Quadlet section accepts, with the podman release that first accepted them.
 *
 * The 4.4 sets are the supported-key maps of pkg/systemd/quadlet/quadlet.go in the podman 4.4
 * line. Later additions come from podman's RELEASE_NOTES.md (4.5 to 5.4) and the podman 5.4.2
 * podman-systemd.unit(5) page. Keys marked "estimate" have no release-note entry, so their
 * version is a guess near the first manual that lists them, or 5.5 for keys newer than 5.4.2.
 */
type KeyVersions = Record<string, string>;

const CONTAINER_KEYS: KeyVersions = {
  AddCapability: '4.4',
  AddDevice: '4.4',
  Annotation: '4.4',
  ContainerName: '4.4',
  DropCapability: '4.4',
  Environment: '4.4',
  EnvironmentFile: '4.4',
  EnvironmentHost: '4.4',
  Exec: '4.4',
  ExposeHostPort: '4.4',
  Group: '4.4',
  Image: '4.4',
  Label: '4.4',
  Network: '4.4',
  NoNewPrivileges: '4.4',
  Notify: '4.4',
  PodmanArgs: '4.4',
  PublishPort: '4.4',
  ReadOnly: '4.4',
  RemapGid: '4.4',
  RemapUid: '4.4',
  RemapUidSize: '4.4',
  RemapUsers: '4.4',
  RunInit: '4.4',
  SeccompProfile: '4.4',
  Timezone: '4.4',
  User: '4.4',
  VolatileTmp: '4.4',
  Volume: '4.4',
  HealthCmd: '4.5',
  HealthInterval: '4.5',
  HealthOnFailure: '4.5',
  HealthRetries: '4.5',
  HealthStartPeriod: '4.5',
  HealthStartupCmd: '4.5',
  HealthStartupInterval: '4.5',
  HealthStartupRetries: '4.5',
  HealthStartupSuccess: '4.5',
  HealthStartupTimeout: '4.5',
  HealthTimeout: '4.5',
  IP: '4.5',
  IP6: '4.5',
  LogDriver: '4.5',
  Mount: '4.5',
  Rootfs: '4.5',
  Secret: '4.5',
  SecurityLabelDisable: '4.5',
  SecurityLabelFileType: '4.5',
  SecurityLabelLevel: '4.5',
  SecurityLabelType: '4.5',
  Tmpfs: '4.5',
  AutoUpdate: '4.6',
  HostName: '4.6',
  Mask: '4.6',
  Pull: '4.6',
  SecurityLabelNested: '4.6',
  Sysctl: '4.6',
  Unmask: '4.6',
  WorkingDir: '4.6',
  DNS: '4.7',
  DNSOption: '4.7',
  DNSSearch: '4.7',
  PidsLimit: '4.7',
  ShmSize: '4.7',
  Ulimit: '4.7',
  ContainersConfModule: '4.8',
  GIDMap: '4.8',
  GlobalArgs: '4.8',
  ReadOnlyTmpfs: '4.8',
  SubGIDMap: '4.8',
  SubUIDMap: '4.8',
  UIDMap: '4.8',
  UserNS: '4.8', // estimate
  Entrypoint: '5.0',
  Pod: '5.0',
  StopTimeout: '5.0',
  GroupAdd: '5.1',
  LogOpt: '5.2',
  NetworkAlias: '5.2',
  StopSignal: '5.2',
  AddHost: '5.3',
  CgroupsMode: '5.3',
  HealthLogDestination: '5.3', // estimate
  HealthMaxLogCount: '5.3', // estimate
  HealthMaxLogSize: '5.3', // estimate
  ServiceName: '5.3',
  StartWithPod: '5.3',
  Memory: '5.5', // estimate
  ReloadCmd: '5.5', // estimate
  ReloadSignal: '5.5', // estimate
  Retry: '5.5', // estimate
  RetryDelay: '5.5', // estimate
};

const NETWORK_KEYS: KeyVersions = {
  DisableDNS: '4.4',
  Driver: '4.4',
  Gateway: '4.4',
  IPAMDriver: '4.4',
  IPRange: '4.4',
  IPv6: '4.4',
  Internal: '4.4',
  Label: '4.4',
  Options: '4.4',
  Subnet: '4.4',
  PodmanArgs: '4.6',
  DNS: '4.7',
  NetworkName: '4.7',
  ContainersConfModule: '4.8',
  GlobalArgs: '4.8',
  ServiceName: '5.3',
  NetworkDeleteOnStop: '5.5', // estimate
  InterfaceName: '5.6',
};

const VOLUME_KEYS: KeyVersions = {
  Group: '4.4',
  Label: '4.4',
  User: '4.4',
  Copy: '4.6', // estimate
  Device: '4.6', // estimate
  Options: '4.6', // estimate
  PodmanArgs: '4.6',
  Type: '4.6', // estimate
  VolumeName: '4.7',
  ContainersConfModule: '4.8',
  Driver: '4.8', // estimate
  GlobalArgs: '4.8',
  Image: '4.8', // estimate
  ServiceName: '5.3',
};

/** The Quadlet section of each unit type, with the keys it accepts. */
export const QUADLET_SECTIONS: Record<string, { section: string; keys: KeyVersions }> = {
  container: { section: 'Container', keys: CONTAINER_KEYS },
  network: { section: 'Network', keys: NETWORK_KEYS },
  volume: { section: 'Volume', keys: VOLUME_KEYS },
};

/** Keys that still work but have a replacement, from the release that deprecated them. */
export const DEPRECATED_KEYS: Record<string, { since: string; use: string }> = {
  VolatileTmp: { since: '4.8', use: 'ReadOnlyTmpfs= or Tmpfs=' },
  RemapUsers: { since: '4.8', use: 'UserNS=' },
  RemapUid: { since: '4.8', use: 'UIDMap=' },
  RemapGid: { since: '4.8', use: 'GIDMap=' },
  RemapUidSize: { since: '4.8', use: 'UserNS=auto:size=N' },
};

/** The `[Quadlet]` section (DefaultDependencies=) exists from podman 5.3. */
export const QUADLET_GROUP_SINCE = '5.3';

/** systemd keys of `[Unit]` (systemd.unit(5)); `Condition*` and `Assert*` keys are also valid. */
export const UNIT_KEYS = new Set([
  'Description',
  'Documentation',
  'Wants',
  'Requires',
  'Requisite',
  'BindsTo',
  'PartOf',
  'Upholds',
  'Conflicts',
  'Before',
  'After',
  'OnFailure',
  'OnSuccess',
  'PropagatesReloadTo',
  'ReloadPropagatedFrom',
  'PropagatesStopTo',
  'StopPropagatedFrom',
  'JoinsNamespaceOf',
  'RequiresMountsFor',
  'WantsMountsFor',
  'OnFailureJobMode',
  'IgnoreOnIsolate',
  'StopWhenUnneeded',
  'RefuseManualStart',
  'RefuseManualStop',
  'AllowIsolate',
  'DefaultDependencies',
  'CollectMode',
  'FailureAction',
  'SuccessAction',
  'FailureActionExitStatus',
  'SuccessActionExitStatus',
  'JobTimeoutSec',
  'JobRunningTimeoutSec',
  'JobTimeoutAction',
  'JobTimeoutRebootArgument',
  'StartLimitIntervalSec',
  'StartLimitBurst',
  'StartLimitAction',
  'RebootArgument',
  'SourcePath',
]);

/** systemd keys of `[Install]` (systemd.unit(5)). */
export const INSTALL_KEYS = new Set([
  'Alias',
  'WantedBy',
  'RequiredBy',
  'UpheldBy',
  'Also',
  'DefaultInstance',
]);

/**
 * Common `[Service]` keys (systemd.service(5), systemd.exec(5), systemd.kill(5),
 * systemd.resource-control(5)). The list is not complete, so an unknown key is only a warning.
 */
export const SERVICE_KEYS = new Set([
  'Type',
  'RemainAfterExit',
  'ExecStartPre',
  'ExecStartPost',
  'ExecCondition',
  'ExecReload',
  'ExecStopPost',
  'Restart',
  'RestartSec',
  'RestartSteps',
  'RestartMaxDelaySec',
  'RestartPreventExitStatus',
  'RestartForceExitStatus',
  'SuccessExitStatus',
  'TimeoutSec',
  'TimeoutStartSec',
  'TimeoutStopSec',
  'TimeoutAbortSec',
  'RuntimeMaxSec',
  'WatchdogSec',
  'NotifyAccess',
  'OOMPolicy',
  'Environment',
  'EnvironmentFile',
  'WorkingDirectory',
  'SyslogIdentifier',
  'StandardOutput',
  'StandardError',
  'KillMode',
  'KillSignal',
  'SendSIGKILL',
  'Delegate',
  'Slice',
  'CPUQuota',
  'CPUWeight',
  'MemoryMax',
  'MemoryHigh',
  'MemoryLow',
  'MemoryMin',
  'MemorySwapMax',
  'TasksMax',
  'IOWeight',
  'LimitNOFILE',
  'Nice',
]);

/** Values systemd accepts for `Restart=`. */
export const RESTART_VALUES = new Set([
  'no',
  'on-success',
  'on-failure',
  'on-abnormal',
  'on-watchdog',
  'on-abort',
  'always',
]);
