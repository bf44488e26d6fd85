import { injectable } from 'tsyringe';

/** Counters of one route. */
export interface RouteCounters {
  requests: number;
  errors: number;
  cached: number;
  rate_limited: number;
  [name: string]: number;
}

type GaugeReader = () => Promise<number | Record<string, number>> | number | Record<string, number>;

/**
 * The counters behind `/stats`. Names match the original service's: requests_total,
 * requests_cached, requests_rate_limited, webhooks_received, errors, started_at.
 */
@injectable()
export class GatewayStats {
  readonly startedAt = new Date().toISOString();
  private readonly totals: Record<string, number> = {
    requests_total: 0,
    requests_cached: 0,
    requests_rate_limited: 0,
    webhooks_received: 0,
    errors: 0,
  };
  private readonly routes = new Map<string, RouteCounters>();
  private readonly gauges = new Map<string, GaugeReader>();

  /** Returns the counters of `route`, creating them at zero. */
  route(route: string): RouteCounters {
    let counters = this.routes.get(route);
    if (!counters) {
      counters = { requests: 0, errors: 0, cached: 0, rate_limited: 0 };
      this.routes.set(route, counters);
    }
    return counters;
  }

  /** Adds `by` to the gateway-wide counter `name` and, given a route, to that route's. */
  increment(name: string, route?: string, by = 1): void {
    this.totals[name] = (this.totals[name] ?? 0) + by;
    if (route !== undefined) {
      const counters = this.route(route);
      const routeName = ROUTE_COUNTER_NAMES[name] ?? name;
      counters[routeName] = (counters[routeName] ?? 0) + by;
    }
  }

  /** Registers a gauge read on every `/stats` request, such as a cache's entry count. */
  gauge(name: string, read: GaugeReader): void {
    this.gauges.set(name, read);
  }

  async snapshot(): Promise<Record<string, unknown>> {
    const gauges: Record<string, unknown> = {};
    for (const [name, read] of this.gauges) {
      try {
        gauges[name] = await read();
      } catch (error) {
        gauges[name] = { error: (error as Error).message };
      }
    }
    return {
      ...this.totals,
      started_at: this.startedAt,
      uptime_seconds: Math.round(process.uptime()),
      routes: Object.fromEntries(this.routes),
      stores: gauges,
    };
  }
}

/** Per-route names of the gateway-wide counters. */
const ROUTE_COUNTER_NAMES: Record<string, string> = {
  requests_total: 'requests',
  requests_cached: 'cached',
  requests_rate_limited: 'rate_limited',
  webhooks_received: 'webhooks',
};
