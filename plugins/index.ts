import type { PluginDescriptor } from '../core/index.js';
import apiKey from './api-key/index.js';
import auth from './auth/index.js';
import basicAuth from './basic-auth/index.js';
import cache from './cache/index.js';
import cors from './cors/index.js';
import headerRules from './header-rules/index.js';
import ipAllow from './ip-allow/index.js';
import jwt from './jwt/index.js';
import memoryCache from './memory-cache/index.js';
import memoryLimiter from './memory-limiter/index.js';
import rateLimit from './rate-limit/index.js';
import redisCache from './redis-cache/index.js';
import redisLimiter from './redis-limiter/index.js';
import requestId from './request-id/index.js';
import requestSize from './request-size/index.js';

/** The policies, auth schemes and stores that ship with the gateway. */
export const builtinPolicies: PluginDescriptor[] = [
  auth,
  rateLimit,
  cache,
  cors,
  requestId,
  ipAllow,
  headerRules,
  requestSize,
  jwt,
  apiKey,
  basicAuth,
  memoryLimiter,
  memoryCache,
  redisLimiter,
  redisCache,
];
