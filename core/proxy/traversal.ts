/**
 * Whether a request path holds a `.` or `..` segment in any encoding: plain, percent-encoded
 * (`%2e%2E`), double-encoded (`%252e`), or with `\` or `%5c` as the separator. Such a path could
 * leave the route prefix once the upstream normalises it.
 */
export function hasDotSegment(rawPath: string): boolean {
  let path = rawPath;
  for (let round = 0; round < 4; round++) {
    if (path.split(/[/\\]/).some((segment) => segment === '.' || segment === '..')) {
      return true;
    }
    if (!path.includes('%')) {
      return false;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      // Malformed escapes are not decoded by a careful upstream either; check them as they are.
      decoded = path.replace(/%2e/gi, '.').replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
    }
    if (decoded === path) {
      return false;
    }
    path = decoded;
  }
  return true;
}
