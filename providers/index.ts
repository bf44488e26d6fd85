import type { PluginDescriptor } from '../core/index.js';
import allegro from './allegro/index.js';
import allegroJournal from './allegro-journal/index.js';
import github from './github/index.js';
import inpost from './inpost/index.js';
import standardWebhooks from './standard-webhooks/index.js';
import stripe from './stripe/index.js';

/** The webhook providers and event sources that ship with the gateway. */
export const builtinProviders: PluginDescriptor[] = [
  stripe,
  github,
  inpost,
  allegro,
  allegroJournal,
  standardWebhooks,
];
