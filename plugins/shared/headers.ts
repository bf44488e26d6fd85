/** Pattern of an HTTP header name (an RFC 9110 token), for option schemas. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** Returns the first value of a request header, or undefined when it is absent. */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Removes the query parameters `names` from a request target; returns it unchanged if none. */
export function removeQueryParameters(url: string, names: readonly string[]): string {
  const start = url.indexOf('?');
  if (start === -1 || names.length === 0) {
    return url;
  }
  const keptPairs: string[] = [];
  for (const pair of url.slice(start + 1).split('&')) {
    const end = pair.indexOf('=');
    const rawName = end === -1 ? pair : pair.slice(0, end);
    if (!names.includes(decodeQueryComponent(rawName))) {
      keptPairs.push(pair);
    }
  }
  const path = url.slice(0, start);
  return keptPairs.length > 0 ? `${path}?${keptPairs.join('&')}` : path;
}

/** Reads query parameter `name` from a request target, decoded; undefined when absent. */
export function queryParameter(url: string, name: string): string | undefined {
  const start = url.indexOf('?');
  if (start === -1) {
    return undefined;
  }
  for (const pair of url.slice(start + 1).split('&')) {
    const end = pair.indexOf('=');
    const rawName = end === -1 ? pair : pair.slice(0, end);
    if (decodeQueryComponent(rawName) === name) {
      return end === -1 ? '' : decodeQueryComponent(pair.slice(end + 1));
    }
  }
  return undefined;
}

function decodeQueryComponent(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) {
    return spaced;
  }
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}
