import { fileURLToPath } from 'node:url';
import { startGateway } from '../cli/commands/start.js';
import { startDemoUpstream } from './demo-upstream.js';

// Serves examples/gateway.yaml with the demo upstream on DEMO_UPSTREAM_PORT (default 9080), so
// `npm start` gives a working gateway on port 8080 without any other set-up.
const upstreamPort = Number(process.env.DEMO_UPSTREAM_PORT ?? 9080);
const { url, server } = await startDemoUpstream(upstreamPort);
process.env.DEMO_UPSTREAM ??= url;
const config = fileURLToPath(new URL('../../examples/gateway.yaml', import.meta.url));
const gateway = await startGateway({ config, port: process.env.PORT });
process.once('exit', () => server.close());
console.log(`demo upstream on ${url}; try: curl localhost:${gateway.config.server.port}/api/hello`);
