#!/usr/bin/env node
// Reference synthetic-event generator with @faker-js/faker, for
// bench/bench_synth.sh only: the schema of `doppel synth profiles/ecommerce.json`
// (same fields, types, event names, value mixes, ISO times in whole seconds,
// UUIDv4 ids), every random value drawn through faker — users with a 60%
// chance of a user_id, a device_id and a constant plan, platform and country;
// sessions that start at a random time in a 28-day window and walk the
// profile's next-event table until "$end"; log-normal gaps and prices. It does
// not model retention, hour-of-week, engagement or constancy calibration, so
// it does less work per event than doppel.
//
// Usage: node faker_synth.js EVENTS jsonl|csv SEED FAKER_DIR > out
//   FAKER_DIR: a directory where `npm install @faker-js/faker` was run.
// Writes exactly EVENTS lines (plus the header for CSV).
'use strict';
const path = require('path');
const { pathToFileURL } = require('url');
const { once } = require('events');

const START = Date.UTC(2025, 0, 1);
const DAYS = 28;
const w = (o) => Object.entries(o).map(([value, weight]) => ({ value, weight }));
const NEXT = {
  session_start: w({ product_viewed: 0.55, search: 0.25, home_viewed: 0.15, $end: 0.05 }),
  home_viewed: w({ product_viewed: 0.5, search: 0.3, $end: 0.2 }),
  search: w({ product_viewed: 0.7, search: 0.15, $end: 0.15 }),
  product_viewed: w({ product_viewed: 0.35, add_to_cart: 0.18, search: 0.15, home_viewed: 0.05, $end: 0.27 }),
  add_to_cart: w({ checkout_started: 0.45, product_viewed: 0.35, $end: 0.2 }),
  checkout_started: w({ order_completed: 0.6, $end: 0.4 }),
  order_completed: w({ $end: 0.85, product_viewed: 0.15 }),
};
const PLATFORMS = w({ web: 0.55, ios: 0.3, android: 0.15 });
const COUNTRIES = w({ US: 0.42, GB: 0.12, DE: 0.1, FR: 0.08, CA: 0.07, IN: 0.06, BR: 0.05, NL: 0.04, ES: 0.03, IT: 0.03 });
const CATEGORIES = w({ shoes: 0.3, shirts: 0.25, bags: 0.2, accessories: 0.25 });
const QUANTITIES = [{ value: 1, weight: 0.8 }, { value: 2, weight: 0.15 }, { value: 3, weight: 0.05 }];
const CURRENCIES = w({ USD: 0.6, EUR: 0.25, GBP: 0.15 });
const PLANS = w({ guest: 0.4, member: 0.5, vip: 0.1 });
const COLUMNS = ['user_id', 'device_id', 'event', 'time', 'session_id', 'insert_id', 'properties.platform',
  'properties.country', 'properties.query_length', 'properties.product_id', 'properties.category',
  'properties.price', 'properties.quantity', 'properties.revenue', 'properties.currency',
  'properties.coupon_used', 'user_properties.plan'];

function csvCell(v) {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

async function main() {
  const [n, fmt, seed, dir] = [Number(process.argv[2]), process.argv[3] || 'jsonl', Number(process.argv[4] || 7), process.argv[5]];
  if (!(n >= 0) || !dir) throw new Error('usage: node faker_synth.js EVENTS jsonl|csv SEED FAKER_DIR');
  const entry = require.resolve('@faker-js/faker', { paths: [path.resolve(dir)] });
  const { faker } = await import(pathToFileURL(entry).href);
  faker.seed(seed);
  const pick = (t) => faker.helpers.weightedArrayElement(t);
  const lognormal = (median, sigma) => {
    // Box-Muller on faker's uniforms
    const u = faker.number.float({ min: Number.EPSILON, max: 1 }), v = faker.number.float({ min: 0, max: 1 });
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
  const csv = fmt === 'csv';
  const out = [];
  const flush = async () => {
    // honour back-pressure: stdout to a pipe is asynchronous and would queue
    // without bound (ENOBUFS)
    if (out.length && !process.stdout.write(out.join('\n') + '\n')) await once(process.stdout, 'drain');
    out.length = 0;
  };
  if (csv) out.push(COLUMNS.join(','));
  let made = 0, session = 100000000;
  while (made < n) {
    // a user: ids and the values that stay constant for them
    const uid = faker.datatype.boolean(0.6) ? faker.string.uuid() : null;
    const did = faker.string.uuid();
    const plan = pick(PLANS), platform = pick(PLATFORMS), country = pick(COUNTRIES);
    const sessions = 1 + Math.floor(-1.5 * Math.log(1 - faker.number.float({ min: 0, max: 1 }) * 0.999999));
    for (let j = 0; j < sessions && made < n; j++) {
      session++;
      let t = START + faker.number.int({ min: 0, max: DAYS * 86400 - 1 }) * 1000;
      let ev = 'session_start';
      while (made < n) {
        const props = { platform, country };
        if (ev === 'search') {
          props.query_length = 1 + Math.floor(-2 * Math.log(1 - faker.number.float({ min: 0, max: 0.999999 })));
        } else if (ev === 'product_viewed') {
          props.product_id = faker.string.alphanumeric({ length: 8, casing: 'upper' });
          props.category = pick(CATEGORIES);
          props.price = Math.round(lognormal(39.9, 0.7) * 100) / 100;
        } else if (ev === 'add_to_cart') {
          props.quantity = pick(QUANTITIES);
        } else if (ev === 'order_completed') {
          props.revenue = Math.round(lognormal(72, 0.8) * 100) / 100;
          props.currency = pick(CURRENCIES);
          props.coupon_used = faker.datatype.boolean(0.2);
        }
        const time = new Date(t).toISOString().slice(0, 19) + 'Z';
        const insertId = faker.string.uuid();
        if (csv) {
          out.push([uid, did, ev, time, session, insertId, platform, country, props.query_length, props.product_id,
            props.category, props.price, props.quantity, props.revenue, props.currency, props.coupon_used, plan]
            .map(csvCell).join(','));
        } else {
          const rec = uid ? { user_id: uid } : {};
          rec.device_id = did;
          rec.event = ev;
          rec.time = time;
          rec.insert_id = insertId;
          rec.properties = props;
          rec.user_properties = { plan };
          out.push(JSON.stringify(rec));
        }
        made++;
        if (out.length >= 4096) await flush();
        ev = pick(NEXT[ev]);
        if (ev === '$end') break;
        t += Math.max(1, Math.round(lognormal(25, 1.1))) * 1000;
      }
    }
  }
  await flush();
}

main().catch((e) => {
  process.stderr.write(`faker_synth: ${e.message}\n`);
  process.exit(1);
});
