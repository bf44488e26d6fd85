import type { IncomingHttpHeaders } from 'node:http';
import type { TestContext } from 'node:test';
import { Agent, request } from 'undici';

/** A response as the policy tests read it. */
export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** Request options of {@link TestClient}. */
export interface TestRequest {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

export type TestClient = (url: string, options?: TestRequest) => Promise<TestResponse>;

/**
 * An HTTP client on its own undici agent, closed when the test ends, so keep-alive connections
 * never hold a gateway's shutdown.
 */
export function httpClient(t: TestContext, connections = 16): TestClient {
  const agent = new Agent({ connections, keepAliveTimeout: 1000 });
  t.after(() => agent.close());
  return async (url, options = {}) => {
    const response = await request(url, {
      dispatcher: agent,
      method: (options.method ?? 'GET') as 'GET',
      headers: options.headers,
      body: options.body,
    });
    const text = await response.body.text();
    return {
      status: response.statusCode,
      headers: response.headers as IncomingHttpHeaders,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  };
}

/** The headers the default test upstream echoed back in its JSON body. */
export function echoedHeaders(response: TestResponse): Record<string, string | undefined> {
  return response.json<{ headers: Record<string, string | undefined> }>().headers;
}

/** The request target the default test upstream echoed back. */
export function echoedUrl(response: TestResponse): string {
  return response.json<{ url: string }>().url;
}
