'use strict';

/**
 * The Express demo with Prometheus metrics on /metrics:
 *
 *   node examples/metrics/server.js       # chat on http://127.0.0.1:3000/, metrics on /metrics
 *
 * The relay code is unchanged: llm-relay publishes every stream's start and end on
 * node:diagnostics_channel, and ./metrics.js turns them into prom-client counters and histograms.
 */

const { collectDefaultMetrics } = require('prom-client');
const demo = require('../express/server.js');
const { instrumentRelay } = require('./metrics');

/**
 * Starts the demo with /metrics. Options as the demo's start().
 * @param {Parameters<typeof demo.start>[0]} [opts]
 */
async function start(opts = {}) {
  const metrics = instrumentRelay();
  if (opts.processMetrics !== false) collectDefaultMetrics({ register: metrics.registry });
  let running;
  try {
    running = await demo.start({
      ...opts,
      extend(app) {
        app.get('/metrics', async (req, res) => {
          res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
        });
      },
    });
  } catch (err) {
    metrics.stop();
    throw err;
  }
  return {
    ...running,
    registry: metrics.registry,
    async close() {
      await running.close();
      metrics.stop();
    },
  };
}

module.exports = { start };

if (require.main === module) {
  start().then(
    (running) => {
      console.log(`llm-relay demo (${running.providerLabel}) on ${running.url}, metrics on ${running.url}metrics`);
      const shutdown = () => running.close().then(() => process.exit(0));
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
