'use strict';

// The store contract on a real redis-server, with the producer and the
// reader on two store instances (two app instances), in each client mode:
// the built-in client (url), node-redis (v4 and current) and ioredis.

const { createRedisStore } = require('../../lib/resume');
const { startRedis } = require('../helpers/redis');
const { storeContract } = require('./contract');

let redis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

storeContract('redis store (url)', async () => {
  const producer = createRedisStore({ url: redis.url, keyPrefix: 'url:' });
  const reader = createRedisStore({ url: redis.url, keyPrefix: 'url:' });
  return { producer, reader, close: () => Promise.all([producer.close(), reader.close()]) };
});

for (const [label, pkg] of [
  ['node-redis', 'redis'],
  ['node-redis v4', 'redis4'],
]) {
  storeContract(`redis store (${label} client)`, async () => {
    const { createClient } = require(pkg);
    const clients = [createClient({ url: redis.url }), createClient({ url: redis.url })];
    await Promise.all(clients.map((c) => c.connect()));
    const [producer, reader] = clients.map((client) => createRedisStore({ client, keyPrefix: `${pkg}:` }));
    return {
      producer,
      reader,
      close: async () => {
        await Promise.all([producer.close(), reader.close()]);
        await Promise.all(clients.map((c) => (c.destroy ? c.destroy() : c.disconnect())));
      },
    };
  });
}

storeContract('redis store (ioredis client)', async () => {
  const Redis = require('ioredis');
  const clients = [new Redis(redis.url), new Redis(redis.url)];
  await Promise.all(clients.map((c) => new Promise((resolve) => c.once('ready', resolve))));
  const [producer, reader] = clients.map((client) => createRedisStore({ client, keyPrefix: 'ioredis:' }));
  return {
    producer,
    reader,
    close: async () => {
      await Promise.all([producer.close(), reader.close()]);
      clients.forEach((c) => c.disconnect());
    },
  };
});
