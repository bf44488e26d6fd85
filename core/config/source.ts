import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { substituteEnv } from './env.js';
import { type ConfigIssue, formatPath } from './issues.js';

/** A parsed YAML config with source positions kept for error messages. */
export class ConfigSource {
  private readonly lineCounter = new LineCounter();
  readonly document;
  readonly issues: ConfigIssue[] = [];
  /** Variables that `${...}` references read, for `.env.example` and redaction. */
  readonly variables = new Set<string>();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.document = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false });
    for (const error of [...this.document.errors, ...this.document.warnings]) {
      const position = this.lineCounter.linePos(error.pos[0]);
      this.issues.push({
        file,
        line: position.line,
        column: position.col,
        path: '',
        message: `YAML syntax: ${error.message.split('\n')[0]}`,
        hint: error.code === 'DUPLICATE_KEY' ? 'remove or rename one of the two keys' : undefined,
      });
    }
  }

  /** Replaces `${NAME}` references in every scalar value, recording unset variables as issues. */
  substituteEnv(env: NodeJS.ProcessEnv): void {
    visit(this.document, {
      Scalar: (key, node, ancestors) => {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) {
          return;
        }
        const result = substituteEnv(node.value, env);
        for (const name of result.names) {
          this.variables.add(name);
        }
        for (const missing of result.missing) {
          this.issues.push({
            ...this.position(node),
            path: formatPath(pathOf(ancestors, node)),
            message: `environment variable ${missing.name} is not set and has no default`,
            hint: `set ${missing.name}, or write \${${missing.name}:-default}`,
          });
        }
        node.value = result.value;
      },
    });
  }

  /** Returns the plain value of the document. */
  toJS(): unknown {
    return this.document.toJS({ maxAliasCount: 100 });
  }

  /** Locates a key path; for a missing key, the nearest existing parent. */
  locate(path: readonly (string | number)[], atKey = false): { line: number; column: number } {
    let node: unknown = this.document.contents;
    let found: Node | undefined = node as Node | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
        );
        if (!pair) {
          break;
        }
        found = (atKey && segment === path[path.length - 1] ? pair.key : pair.value) as Node;
        if (!found) {
          found = pair.key as Node;
        }
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
        found = node as Node;
      } else {
        break;
      }
    }
    return found ? this.position(found) : { line: 1, column: 1 };
  }

  private position(node: Node): { file: string; line: number; column: number } {
    const offset = node.range?.[0] ?? 0;
    const position = this.lineCounter.linePos(offset);
    return { file: this.file, line: position.line, column: position.col };
  }
}

function pathOf(ancestors: readonly unknown[], target: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  const chain = [...ancestors, target];
  for (let index = 1; index < chain.length; index++) {
    const parent = chain[index - 1];
    const child = chain[index];
    if (isPair(parent) && isScalar(parent.key)) {
      path.push(String(parent.key.value));
    } else if (isSeq(parent)) {
      path.push(parent.items.indexOf(child as never));
    }
  }
  return path;
}
