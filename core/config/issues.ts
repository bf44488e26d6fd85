/** One problem in a config file, located by line, column and key path. */
export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem has no place in the file (a missing file). */
  line: number;
  column: number;
  /** Key path such as `routes[0].rate_limit`; empty for the whole file. */
  path: string;
  message: string;
  /** How to fix it, when there is something better to say than the message. */
  hint?: string;
}

/** Every problem found in a config file; thrown only after all of them are collected. */
export class ConfigError extends Error {
  readonly code = 'PACTOWN_ERR_CONFIG_INVALID';

  constructor(readonly issues: ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
  }
}

/** Formats issues as `file:line:column path: message (hint)`, one a line. */
export function formatIssues(issues: ConfigIssue[]): string {
  const lines = issues.map((issue) => {
    const place = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
    const path = issue.path ? ` ${issue.path}:` : '';
    const hint = issue.hint ? `\n    fix: ${issue.hint}` : '';
    return `${place}${path} ${issue.message}${hint}`;
  });
  const count = issues.length === 1 ? '1 error' : `${issues.length} errors`;
  // Problems without a place in the file, such as a missing file, are not about its content.
  const heading = issues.every((issue) => issue.line === 0)
    ? 'cannot load config'
    : 'invalid config';
  return `${heading} (${count}):\n${lines.map((line) => `  ${line}`).join('\n')}`;
}

/** Formats a key path as `routes[0].rate_limit`. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
    } else {
      text += text ? `.${segment}` : segment;
    }
  }
  return text;
}
