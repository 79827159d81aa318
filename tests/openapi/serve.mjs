// The contract checker as a long-lived process for the Python harnesses: one JSON request per line
// on stdin, one JSON answer per line on stdout, in order.
//   {"op":"check","method","path"|"template","status","headers","body","content_type"} → {"problems":[...]}
//   {"op":"schema","name","doc"}           (components/schemas/<name>)                  → {"problems":[...]}
//   {"op":"validate","schema","doc"}       (a whole JSON Schema 2020-12)                → {"problems":[...]}
// A request that cannot be handled answers {"error":"..."}.
// Usage: node serve.mjs [docs/openapi.yaml]
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Contract } from './contract.mjs';

const specPath = process.argv[2] ?? fileURLToPath(new URL('../../docs/openapi.yaml', import.meta.url));
const contract = new Contract(specPath);
process.stdout.write(JSON.stringify({ ready: true, spec: specPath }) + '\n');

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let answer;
  try {
    const req = JSON.parse(line);
    if (req.op === 'check') {
      answer = { problems: contract.check({ method: req.method, path: req.path, template: req.template,
                                            status: req.status, headers: req.headers, body: req.body,
                                            contentType: req.content_type }) };
    } else if (req.op === 'schema') {
      answer = { problems: contract.checkSchema(req.name, req.doc) };
    } else if (req.op === 'validate') {
      answer = { problems: contract.checkWithSchema(req.schema, req.doc) };
    } else {
      answer = { error: `unknown op ${req.op}` };
    }
  } catch (e) {
    answer = { error: String(e?.stack ?? e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
}
