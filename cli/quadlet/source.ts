import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { DeployError } from './errors.js';
import { extractFencedConfig } from './markdown.js';

/** The gateway config that a deploy starts from. */
export interface DeploySource {
  /** Absolute path of the file named on the command line. */
  file: string;
  /** The config text: the whole YAML file, or the fenced block of a Markdown file. */
  yaml: string;
  /** 1-based line of `file` where the config text starts. */
  firstLine: number;
  fromMarkdown: boolean;
}

const MARKDOWN_EXTENSIONS = new Set(['.md', '.markdown']);

/** Reads SOURCE: a YAML config, or a Markdown file with a ```` ```yaml routes.yaml ```` block. */
export function readDeploySource(path: string): DeploySource {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new DeployError(`cannot read ${file}: ${reason}`);
  }
  if (!MARKDOWN_EXTENSIONS.has(extname(file).toLowerCase())) {
    return { file, yaml: text, firstLine: 1, fromMarkdown: false };
  }
  const block = extractFencedConfig(text, file);
  return { file, yaml: block.text, firstLine: block.line, fromMarkdown: true };
}
