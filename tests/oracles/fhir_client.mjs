// A FHIR client library from npm (fhir-kit-client) drives a node's /fhir endpoint: metadata,
// a transaction, read, search with paging, and Bulk Data $export (kick-off, status, files);
// every resource the node returns is validated against the R4 definitions by the `fhir`
// package. Requests are signed with a member key (X-Leben-* headers, docs/fhir.md).
// Usage: node tests/oracles/fhir_client.mjs BASE_URL SEED_HEX   (prints one JSON object of results)
import { createRequire } from 'module';
import { Client } from 'fhir-kit-client';
import { ed25519 } from '@noble/curves/ed25519';
import { blake2b } from '@noble/hashes/blake2b';
const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');

const [base, seedHex] = process.argv.slice(2);
const seed = Uint8Array.from(Buffer.from(seedHex, 'hex'));
const pk = Buffer.from(ed25519.getPublicKey(seed)).toString('hex');
const hex = (u) => Buffer.from(u).toString('hex');
const enc = new TextEncoder();

function sign(method, url, body) {
  const p = new URL(url).pathname.replace(/\/$/, '');
  const t = String(Math.floor(Date.now() / 1000));
  const bh = hex(blake2b(enc.encode(body || ''), { dkLen: 32 }));
  const msg = blake2b(enc.encode(`LEBEN-fhir-v1\n${method}\n${p}\n${t}\n${bh}`), { dkLen: 32 });
  return { 'x-leben-key': pk, 'x-leben-time': t, 'x-leben-signature': hex(ed25519.sign(msg, seed)) };
}
async function requestSigner(url, init) {
  const h = sign(init.method, url, typeof init.body === 'string' ? init.body : '');
  for (const [k, v] of Object.entries(h)) init.headers.set(k, v);
}
const client = new Client({ baseUrl: base, requestSigner });
const fhir = new Fhir();
const out = { invalid: [], checked: 0 };
function check(res, where) {
  const r = fhir.validate(res, {});
  out.checked++;
  const errs = (r.messages || []).filter((m) => m.severity === 'error');
  if (!r.valid || errs.length) out.invalid.push({ where, type: res.resourceType, errs: errs.slice(0, 3) });
}

const cap = await client.capabilityStatement();
check(cap, 'metadata');
out.capability = { fhirVersion: cap.fhirVersion, types: cap.rest[0].resource.map((r) => r.type) };

const bundle = {
  resourceType: 'Bundle', type: 'transaction',
  entry: [
    { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
      resource: { resourceType: 'Patient', name: [{ family: 'Kit', given: ['Ada'] }], gender: 'female', birthDate: '1980-02-29' },
      request: { method: 'POST', url: 'Patient' } },
    ...[1, 2, 3, 4, 5].map((i) => ({
      resource: { resourceType: 'Observation', status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
        effectiveDateTime: `2023-0${i}-15T10:00:00Z`, valueQuantity: { value: 60 + i, unit: '/min' } },
      request: { method: 'POST', url: 'Observation' } })),
    { resource: { resourceType: 'Condition', subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
        code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertension' }] },
        onsetDateTime: '2022-11-02' },
      request: { method: 'POST', url: 'Condition' } },
  ],
};
const tr = await client.transaction({ body: bundle });
check(tr, 'transaction-response');
out.transaction = { type: tr.type, statuses: tr.entry.map((e) => e.response.status) };
const patientRef = tr.entry[0].response.location.split('/_history')[0];
const patientId = patientRef.split('/')[1];
out.patientId = patientId;

const p = await client.read({ resourceType: 'Patient', id: patientId });
check(p, 'read');
out.read = { id: p.id, birthDate: p.birthDate, version: p.meta.versionId };

// search with paging: 5 observations, 2 a page
let page = await client.search({ resourceType: 'Observation', searchParams: { patient: patientId, _count: 2 } });
out.pages = [];
out.total = page.total;
while (page) {
  check(page, 'searchset');
  for (const e of page.entry || []) check(e.resource, 'search entry');
  out.pages.push((page.entry || []).map((e) => e.resource.effectiveDateTime));
  page = (page.link || []).some((l) => l.relation === 'next') ? await client.nextPage({ bundle: page }) : null;
  if (page && !(page.entry || []).length) page = null;
  if (out.pages.length > 5) break;
}
const dated = await client.search({ resourceType: 'Observation', searchParams: { patient: patientId, date: ['ge2023-02-01', 'lt2023-04-01'] } });
out.dated = (dated.entry || []).map((e) => e.resource.effectiveDateTime).sort();
const coded = await client.search({ resourceType: 'Condition', searchParams: { code: 'http://snomed.info/sct|38341003' } });
out.coded = coded.total;

// a refused resource: the client sees an OperationOutcome naming the element
try {
  await client.create({ resourceType: 'Observation', body: {} });
} catch (e) { out.createPost = e.response && e.response.status; }
try {
  await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: [{
    resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '2023-02-30' },
    request: { method: 'POST', url: 'Observation' } }] } });
  out.badDate = 'accepted';
} catch (e) {
  const oo = e.response && e.response.data;
  if (oo) check(oo, 'OperationOutcome');
  out.badDate = { status: e.response && e.response.status, expression: oo && oo.issue[0].expression };
}

// Bulk Data: kick-off (Prefer: respond-async), status, then each file as NDJSON
const kick = `${base}/$export?_type=Patient,Observation`;
let r = await fetch(kick, { headers: { ...sign('GET', kick, ''), prefer: 'respond-async', accept: 'application/fhir+json' } });
out.kickoff = r.status;
const statusUrl = r.headers.get('content-location');
r = await fetch(statusUrl, { headers: sign('GET', statusUrl, '') });
const manifest = await r.json();
out.manifest = { status: r.status, types: manifest.output.map((o) => o.type) };
out.exported = {};
for (const o of manifest.output) {
  const f = await fetch(o.url, { headers: sign('GET', o.url, '') });
  out.ndjsonType = f.headers.get('content-type');
  const lines = (await f.text()).split('\n').filter((l) => l);
  for (const l of lines) check(JSON.parse(l), 'export ' + o.type);
  out.exported[o.type] = lines.length;
}
console.log(JSON.stringify(out));
