// What both browser suites check on every page: the console, uncaught errors, CSP violations and
// where requests went. `record` starts listening on a fresh context; `assertClean` judges it.
import assert from 'node:assert/strict';

export async function record(context, timeoutMs) {
  const rec = { requests: [], consoleErrors: [], pageErrors: [], csp: [] };
  await context.exposeBinding('__dinexCspViolation', (_src, v) => { rec.csp.push(v); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__dinexCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  context.on('request', (r) => rec.requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') rec.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => rec.pageErrors.push(String(e)));
  return { page, rec };
}

// No console errors (but "Failed to load resource" with one of `allow`, for failures a test
// provokes), no uncaught errors, no CSP violation, no request to anything but `origin`.
export function assertClean(rec, origin, { allow = [] } = {}) {
  const errors = rec.consoleErrors.filter((m) => !allow.some((a) => m.includes('Failed to load resource') && m.includes(a)));
  assert.deepEqual(errors, [], 'console errors');
  assert.deepEqual(rec.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(rec.csp, [], 'Content-Security-Policy violations');
  const foreign = rec.requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
  assert.deepEqual(foreign, [], 'requests that left the origin');
}
