/**
 * Container health probe for images without curl: `node healthcheck.js URL` exits 0 when URL
 * returns 200 with `{"status":"ok"}`, and 1 otherwise (error status, other body, timeout,
 * refused connection).
 */
const url = process.argv[2] ?? 'http://127.0.0.1:8080/health';
const TIMEOUT_MS = 4000;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = (await response.json().catch(() => undefined)) as { status?: unknown } | undefined;
  if (response.status === 200 && body?.status === 'ok') {
    process.exitCode = 0;
  } else {
    console.error(`health check failed: ${url} returned ${response.status}`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(`health check failed: ${url}: ${(error as Error).message}`);
  process.exitCode = 1;
}
