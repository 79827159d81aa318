// The contract checker itself (ctest openapi_validator): it must accept a correct answer and refuse
// an unknown property, a wrong type, an undocumented status, a missing required header and a
// wrong Allow, and every schema of docs/openapi.yaml must compile in Ajv's strict mode.
// Run: node --test tests/openapi/contract.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Contract } from './contract.mjs';

const contract = new Contract(fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url)));
const JSON_TYPE = 'application/json; charset=utf-8';

const health = () => ({
  status: 'healthy', service: 'dinex-tracking', environment: 'dev', timestamp: 1795969100,
  version: '0.2.0', store: 'sqlite',
});
const check = (over) => contract.check({
  method: 'GET', path: '/health', status: 200,
  headers: { 'x-request-id': 'it-1', 'content-type': JSON_TYPE }, body: health(), ...over,
});
const error = (code, extra = {}) => ({ error: 'x', code, details: [], request_id: 'it-1', ...extra });

test('a correct answer passes', () => {
  assert.deepEqual(check({}), []);
});

test('an unknown property fails, named', () => {
  const problems = check({ body: { ...health(), uptime: 3 } });
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], /uptime/);
});

test('a wrong type fails', () => {
  const problems = check({ body: { ...health(), timestamp: '1795969100' } });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /\/timestamp must be integer/);
});

test('a missing required property fails', () => {
  const body = health();
  delete body.environment;
  assert.match(check({ body }).join('\n'), /must have required property 'environment'/);
});

test('an undocumented status fails', () => {
  assert.match(check({ status: 418 }).join('\n'), /documents no 418 for GET \/health/);
});

test('a required header that is missing fails', () => {
  assert.match(check({ headers: { 'content-type': JSON_TYPE } }).join('\n'), /X-Request-Id is missing/);
});

test('a header value that breaks its schema fails', () => {
  const problems = contract.check({
    method: 'GET', path: '/tracking?tracking_id=X', status: 429,
    headers: { 'x-request-id': 'it-1', 'content-type': JSON_TYPE, 'retry-after': 'soon' },
    body: error('resource_exhausted'),
  });
  assert.match(problems.join('\n'), /Retry-After/);
});

test('the body must be of a documented media type', () => {
  assert.match(check({ headers: { 'x-request-id': 'a', 'content-type': 'text/plain' }, body: 'ok' }).join('\n'),
               /the body is text\/plain/);
});

test('a stage prefix and a trailing slash reach the same operation', () => {
  assert.deepEqual(check({ path: '/dev/health' }), []);
  assert.deepEqual(check({ path: '/prod/health/' }), []);
  assert.match(check({ path: '/dev/health', body: {} }).join('\n'), /required property/);
});

test('templated paths match by their parameter schema', () => {
  const page = { deliveries: [], next_cursor: null };
  const at = (path) => contract.check({ method: 'GET', path, status: 200,
                                        headers: { 'x-request-id': 'a', 'content-type': JSON_TYPE }, body: page });
  assert.deepEqual(at('/subscriptions/01KB7Z8X4V6Q2M3N4P5R6S7T8V/deliveries?limit=2'), []);
  // A segment the parameter's pattern refuses is no route: only 404 NotFound fits.
  assert.match(at('/subscriptions/bad.id/deliveries').join('\n'), /must be 404/);
});

test('an unknown path must be 404 with the NotFound body', () => {
  const nf = (body) => contract.check({ method: 'GET', path: '/nope', status: 404,
                                        headers: { 'x-request-id': 'a', 'content-type': JSON_TYPE }, body });
  assert.deepEqual(nf(error('not_found', { details: [{ field: 'path', rule: 'route' }] })), []);
  assert.match(nf(error('internal')).join('\n'), /code must be equal to constant/);
  assert.match(nf({ error: { code: 'not_found', message: 'x', details: [] }, request_id: 'a' }).join('\n'), /\/error must be string/);
});

test('a method the path does not serve: 405 with an Allow that lists the documented methods', () => {
  const refused = (allow) => contract.check({
    method: 'DELETE', path: '/tracking', status: 405,
    headers: { 'x-request-id': 'a', 'content-type': JSON_TYPE, allow },
    body: error('method_not_allowed', { details: [{ field: 'method', rule: 'one_of:GET, HEAD, POST, OPTIONS' }] }),
  });
  assert.deepEqual(refused('GET, HEAD, POST, OPTIONS'), []);
  assert.match(refused('GET, POST, OPTIONS').join('\n'), /Allow is "GET, POST, OPTIONS" but \/tracking documents/);
  assert.match(contract.check({ method: 'DELETE', path: '/tracking', status: 200, headers: {}, body: {} }).join('\n'),
               /documents no DELETE/);
});

test('GET /tracking 404 echoes tracking_id; other errors may not carry it', () => {
  const body = error('not_found', { tracking_id: 'NOPE1', details: [{ field: 'tracking_id', rule: 'exists' }] });
  const lookup = (b, path = '/tracking?tracking_id=nope1') => contract.check({
    method: 'GET', path, status: 404, headers: { 'x-request-id': 'a', 'content-type': JSON_TYPE }, body: b });
  assert.deepEqual(lookup(body), []);
  const { tracking_id: _, ...without } = body;
  assert.match(lookup(without).join('\n'), /tracking_id/);
  assert.match(lookup(body, '/subscriptions/01KB7Z8X4V6Q2M3N4P5R6S7T8V').join('\n'), /tracking_id/);
});

test('HEAD answers carry no body but their headers are checked', () => {
  assert.deepEqual(contract.check({ method: 'HEAD', path: '/subscriptions', status: 200, headers: { 'x-request-id': 'a' } }), []);
  assert.match(contract.check({ method: 'HEAD', path: '/tracking?tracking_id=A1B', status: 401,
                                headers: { 'x-request-id': 'a' } }).join('\n'), /WWW-Authenticate is missing/);
});

test('checking by documented path and by schema name', () => {
  assert.deepEqual(contract.check({ method: 'GET', template: '/health', status: 200, headers: { 'x-request-id': 'a' },
                                    body: health(), contentType: JSON_TYPE }), []);
  assert.deepEqual(contract.checkSchema('Status', 'DELIVERED'), []);
  assert.equal(contract.checkSchema('Status', 'LOST').length, 1);
});

test('every response schema of the document compiles in strict mode', () => {
  let count = 0;
  for (const r of contract.routes) {
    for (const [method, op] of Object.entries(r.item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const status of Object.keys(op.responses)) {
        const [response, pointer] = contract.deref(op.responses[status], `${r.itemPointer}/${method}/responses/${status}`);
        for (const media of Object.keys(response.content ?? {})) {
          contract.validator(`${pointer}/content/${media.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`);
          count++;
        }
      }
    }
  }
  for (const name of Object.keys(contract.spec.components.schemas)) contract.checkSchema(name, null);
  assert.ok(count > 50, `only ${count} response schemas`);
});

test('every JSON answer documented with an example is closed: the example passes, with an extra property it fails', () => {
  let count = 0;
  const seen = new Set();
  for (const r of contract.routes) {
    for (const [method, op] of Object.entries(r.item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const status of Object.keys(op.responses)) {
        const [response, pointer] = contract.deref(op.responses[status], `${r.itemPointer}/${method}/responses/${status}`);
        const media = response.content?.['application/json'];
        if (!media || seen.has(pointer)) continue;
        seen.add(pointer);
        const examples = [media.example, ...Object.values(media.examples ?? {}).map((e) => contract.deref(e, '')[0].value)]
          .filter((e) => e !== undefined);
        const validate = contract.validator(`${pointer}/content/application~1json/schema`);
        for (const example of examples) {
          assert.ok(validate(example), `${pointer}: its example does not validate: ${JSON.stringify(validate.errors)}`);
          assert.ok(!validate({ ...example, undocumented_field: 1 }), `${pointer} accepts an undocumented property`);
          count++;
        }
      }
    }
  }
  assert.ok(count >= 15, `only ${count} examples`);
});
