// Checks a live HTTP answer against docs/openapi.yaml: the status must be documented for the
// operation the request reached, the body must validate against that response's schema (Ajv,
// JSON Schema draft 2020-12, the OpenAPI 3.1 dialect, formats from ajv-formats), the declared
// required headers must be present and their values match their schemas, and `Allow` must list
// exactly the methods the path documents.
//
// Only the OpenAPI structure (servers, paths, operations, responses, $ref to components) is read
// here; every schema is judged by Ajv.
//
// Routing (method + raw path → operation):
// - the query string is dropped; a path may carry the path part of any documented server URL
//   (`/{stage}`: `/dev/tracking` is `/tracking` on stage dev), tried after the bare path;
// - templated paths (`/subscriptions/{id}`) match one segment per parameter, and the segment must
//   validate against the parameter's schema; a trailing `/` is tolerated (`/tracking/`);
// - a path the spec does not have must answer 404 with components/responses/NotFound;
// - a method the path does not document is answered with a status that one of the path's other
//   operations documents (405 with `Allow` is declared on every operation for this reason, and
//   routes that check a key first may answer 401/403/429).
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const BASE = 'https://dinex.invalid/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Keywords of the OpenAPI 3.1 schema dialect beyond JSON Schema 2020-12 (annotations here).
const OAS_KEYWORDS = ['example', 'discriminator', 'xml', 'externalDocs'];
// The document is given to Ajv as the root of every $ref ("#/components/schemas/…" resolves in
// it); Ajv compiles that root once, so its OpenAPI members must be known (inert) keywords.
const DOCUMENT_MEMBERS = ['paths', 'webhooks', 'components'];

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function newAjv(extra = {}) {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, ...extra });
  ajv.addVocabulary([...OAS_KEYWORDS, ...DOCUMENT_MEMBERS]);
  addFormats(ajv);
  return ajv;
}

export class Contract {
  constructor(specPath) {
    this.spec = YAML.parse(readFileSync(specPath, 'utf8'));
    this.ajv = newAjv();
    const root = Object.fromEntries(DOCUMENT_MEMBERS.filter((k) => k in this.spec).map((k) => [k, this.spec[k]]));
    this.ajv.addSchema(root, BASE);
    // Header values are text: integers are compared after coercion, in an instance of their own.
    this.headerAjv = newAjv({ coerceTypes: true });
    this.headerAjv.addSchema(root, BASE);
    this.compiled = new Map();
    this.prefixes = this.serverPrefixes();
    this.routes = this.pathRoutes();
  }

  // Follows $ref within the document; returns [node, its JSON pointer].
  deref(node, pointer) {
    for (let hops = 0; node && typeof node === 'object' && typeof node.$ref === 'string'; hops++) {
      if (!node.$ref.startsWith('#/') || hops > 20) throw new Error(`unsupported $ref ${node.$ref} at ${pointer}`);
      pointer = node.$ref.slice(1);
      node = pointer.split('/').slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce((n, p) => (n == null ? n : n[p]), this.spec);
      if (node === undefined) throw new Error(`dangling $ref to ${pointer}`);
    }
    return [node, pointer];
  }

  // A validator for the schema at a JSON pointer of the document (compiled once).
  validator(pointer, ajv = this.ajv) {
    const key = (ajv === this.ajv ? 'b:' : 'h:') + pointer;
    let v = this.compiled.get(key);
    if (!v) {
      v = ajv.compile({ $ref: `${BASE}#${pointer}` });
      this.compiled.set(key, v);
    }
    return v;
  }

  serverPrefixes() {
    const out = [{ re: /^/, label: '' }];
    for (const server of this.spec.servers ?? []) {
      const m = /^[a-z]+:\/\/[^/]*(\/.*)?$/i.exec(server.url);
      const path = (m?.[1] ?? '').replace(/\/$/, '');
      if (!path) continue;
      const source = path.split(/(\{[^}]+\})/).map((part) => {
        if (!part.startsWith('{')) return escapeRegex(part);
        const variable = server.variables?.[part.slice(1, -1)];
        return variable?.enum ? `(?:${variable.enum.map(escapeRegex).join('|')})` : '[^/]+';
      }).join('');
      if (!out.some((p) => p.re.source === `^${source}`)) out.push({ re: new RegExp(`^${source}`), label: path });
    }
    return out;
  }

  pathRoutes() {
    const routes = [];
    for (const [template, rawItem] of Object.entries(this.spec.paths ?? {})) {
      const itemPointer = `/paths/${escapePointer(template)}`;
      const [item] = this.deref(rawItem, itemPointer);
      const names = [];
      const source = template.split(/(\{[^}]+\})/).map((part) => {
        if (!part.startsWith('{')) return escapeRegex(part);
        names.push(part.slice(1, -1));
        return '([^/]+)';
      }).join('');
      // The schema of each path parameter (path level first, then any operation's).
      const params = {};
      const collect = (list, base) => (list ?? []).forEach((p, i) => {
        const [param, pointer] = this.deref(p, `${base}/parameters/${i}`);
        if (param.in === 'path' && !params[param.name] && param.schema) params[param.name] = `${pointer}/schema`;
      });
      collect(item.parameters, itemPointer);
      for (const m of METHODS) if (item[m]) collect(item[m].parameters, `${itemPointer}/${m}`);
      routes.push({ template, itemPointer, item, re: new RegExp(`^${source}$`), names, params,
                    literal: names.length === 0 });
    }
    // Literal paths before templated ones (OpenAPI's matching rule).
    return routes.sort((a, b) => Number(b.literal) - Number(a.literal));
  }

  matchTemplate(path) {
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      const ok = r.names.every((name, i) => {
        const pointer = r.params[name];
        let value;
        try { value = decodeURIComponent(m[i + 1]); } catch { return false; }
        return !pointer || this.validator(pointer)(value);
      });
      if (ok) return r;
    }
    return null;
  }

  // The documented route a raw path reaches, or null.
  route(rawPath) {
    const path = rawPath.split('?')[0];
    for (const prefix of this.prefixes) {
      const m = prefix.re.exec(path);
      if (!m) continue;
      const rest = path.slice(m[0].length);
      if (prefix.label && !rest.startsWith('/')) continue;
      const candidates = rest.length > 1 && rest.endsWith('/') ? [rest, rest.slice(0, -1)] : [rest];
      for (const c of candidates) {
        const r = this.matchTemplate(c);
        if (r) return { ...r, stage: prefix.label };
      }
    }
    return null;
  }

  // The response object (and its pointer) documented for a status, or null.
  responseFor(opPointer, op, status) {
    const responses = op.responses ?? {};
    for (const key of [String(status), `${Math.floor(status / 100)}XX`, 'default']) {
      if (responses[key]) return this.deref(responses[key], `${opPointer}/responses/${key}`);
    }
    return null;
  }

  // Checks one answer. `template`: the documented path to use instead of routing `path`.
  // `headers`: the answer's headers; null or absent when the caller has none (not checked then).
  // Returns a list of problems (empty when the answer matches the contract).
  check({ method, path, template, status, headers, body, contentType }) {
    method = method.toLowerCase();
    const headersKnown = headers != null;
    headers = Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    contentType ??= headers['content-type'] ?? '';
    const where = `${method.toUpperCase()} ${path ?? template} → ${status}`;
    let route;
    if (template) {
      route = this.routes.find((r) => r.template === template);
      if (!route) return [`${where}: docs/openapi.yaml has no path ${template}`];
    } else {
      route = this.route(path);
    }

    let response;
    let pointer;
    let label;
    if (!route) {
      // An unknown path: always 404 with the NotFound answer.
      label = 'components/responses/NotFound (an undocumented path)';
      if (status !== 404) return [`${where}: the path is not in docs/openapi.yaml, so the answer must be 404 (${label})`];
      [response, pointer] = this.deref({ $ref: '#/components/responses/NotFound' }, '');
    } else if (route.item[method]) {
      const opPointer = `${route.itemPointer}/${method}`;
      label = `${method.toUpperCase()} ${route.template}`;
      const found = this.responseFor(opPointer, route.item[method], status);
      if (!found) {
        return [`${where}: docs/openapi.yaml documents no ${status} for ${label} ` +
                `(documented: ${Object.keys(route.item[method].responses ?? {}).join(', ')})`];
      }
      [response, pointer] = found;
    } else {
      // A method the path does not serve: an error status another operation of the path documents.
      const others = METHODS.filter((m) => route.item[m] && m !== 'options');
      for (const m of status >= 400 ? others : []) {
        const found = this.responseFor(`${route.itemPointer}/${m}`, route.item[m], status);
        if (found) {
          [response, pointer] = found;
          label = `${m.toUpperCase()} ${route.template} (for the undocumented method ${method.toUpperCase()})`;
          break;
        }
      }
      if (!response) {
        return [`${where}: ${route.template} documents no ${method.toUpperCase()}, and none of its operations ` +
                `(${others.join(', ').toUpperCase()}) documents ${status} as an error`];
      }
    }

    const problems = headersKnown ? this.checkHeaders(response, pointer, headers, label) : [];
    if (route && headers.allow !== undefined && (status === 405 || method === 'options')) {
      const documented = METHODS.filter((m) => route.item[m]).map((m) => m.toUpperCase()).sort();
      const allowed = headers.allow.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean).sort();
      if (documented.join() !== allowed.join()) {
        problems.push(`Allow is "${headers.allow}" but ${route.template} documents ${documented.join(', ')}`);
      }
    }

    const hasBody = body !== undefined && body !== null && body !== '';
    const content = response.content ?? {};
    if (method === 'head' || !hasBody) {
      if (!hasBody && method !== 'head' && Object.keys(content).length && status !== 304) {
        problems.push(`no body, but ${label} documents ${Object.keys(content).join(', ')}`);
      }
      return problems.map((p) => `${p}\n  (checked as ${label})`);
    }
    const media = contentType.split(';')[0].trim().toLowerCase();
    const key = Object.keys(content).find((k) => k.split(';')[0].trim().toLowerCase() === media);
    if (!key) {
      problems.push(`the body is ${media || 'of no Content-Type'}, but ${label} documents ` +
                    `${Object.keys(content).join(', ') || 'no body'}`);
    } else if (content[key].schema && /^application\/([a-z0-9.+-]*\+)?json$/.test(media)) {
      const validate = this.validator(`${pointer}/content/${escapePointer(key)}/schema`);
      if (!validate(body)) {
        const errors = validate.errors.map((e) =>
          `${e.instancePath || '(body)'} ${e.message}${e.params?.additionalProperty !== undefined ? `: "${e.params.additionalProperty}"`
            : e.params?.unevaluatedProperty !== undefined ? `: "${e.params.unevaluatedProperty}"` : ''} [${e.schemaPath}]`);
        problems.push(`the body does not match ${label} (${key}):\n    ${errors.join('\n    ')}`);
      }
    }
    return problems.map((p) => `${p}\n  (checked as ${label})`);
  }

  checkHeaders(response, pointer, headers, label) {
    const problems = [];
    for (const [name, raw] of Object.entries(response.headers ?? {})) {
      const [header, headerPointer] = this.deref(raw, `${pointer}/headers/${escapePointer(name)}`);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`the header ${name} is missing (required by ${label})`);
        continue;
      }
      if (!header.schema) continue;
      const data = { value };
      const validate = this.headerValidator(headerPointer);
      if (!validate(data)) {
        problems.push(`the header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors, { dataVar: name })}`);
      }
    }
    return problems;
  }

  headerValidator(headerPointer) {
    const key = `hv:${headerPointer}`;
    let v = this.compiled.get(key);
    if (!v) {
      v = this.headerAjv.compile({ type: 'object', properties: { value: { $ref: `${BASE}#${headerPointer}/schema` } } });
      this.compiled.set(key, v);
    }
    return v;
  }

  // Validates a document against a whole schema given by the caller (its "#/components/…"
  // references resolve in that schema: callers embed the document's components).
  checkWithSchema(schema, doc) {
    const key = `s:${JSON.stringify(schema)}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate(doc) ? [] : [`the document does not match the schema: ${this.ajv.errorsText(validate.errors, { dataVar: 'doc' })}`];
  }

  // Validates a document against components/schemas/<name> (e.g. a webhook body).
  checkSchema(name, doc) {
    const pointer = `/components/schemas/${escapePointer(name)}`;
    if (!this.spec.components?.schemas?.[name]) return [`docs/openapi.yaml has no components/schemas/${name}`];
    const validate = this.validator(pointer);
    return validate(doc) ? [] : [`the document does not match components/schemas/${name}: ${this.ajv.errorsText(validate.errors, { dataVar: 'doc' })}`];
  }
}
