export { ThrottledLog } from '../../core/throttled-log.js';
