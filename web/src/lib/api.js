// The node's JSON API (docs/api.md), written once for every page. Same origin: the page is
// served by the node it talks to, over the same TLS.

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function call(method, path, body) {
  let r;
  try {
    r = await fetch(path, {
      method, headers: body ? { 'Content-Type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined, cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `the node did not answer (${e.message}); is it running?`);
  }
  let j = null;
  try { j = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    const e = j && j.error;
    throw new ApiError(r.status, e ? e.code : 'HTTP', e ? e.message : `HTTP ${r.status} from ${path}`);
  }
  return j;
}

const enc = encodeURIComponent;
export const api = {
  status: () => call('GET', '/v1/status'),
  chains: () => call('GET', '/v1/chains'),
  blocks: (chain, before, limit = 10) =>
    call('GET', `/v1/chains/${enc(chain)}/blocks?limit=${limit}${before != null ? `&before=${before}` : ''}`),
  block: (chain, height) => call('GET', `/v1/chains/${enc(chain)}/blocks/${enc(height)}`),
  tx: (id) => call('GET', `/v1/txs/${enc(id)}`),
  proof: (id, anchor) => call('GET', `/v1/txs/${enc(id)}/proof${anchor ? `?anchor=${enc(anchor)}` : ''}`),
  account: (addr) => call('GET', `/v1/accounts/${enc(addr)}`),
  accountTxs: (addr, offset = 0, limit = 10) =>
    call('GET', `/v1/accounts/${enc(addr)}/txs?offset=${offset}&limit=${limit}`),
  members: () => call('GET', '/v1/members'),
  search: (q, where = [], limit = 20) => call('GET', `/v1/directory/search?${new URLSearchParams([['q', q], ...where.map((w) => ['where', w]), ['limit', String(limit)]])}`),
  asset: (id) => call('GET', `/v1/directory/assets/${enc(id)}`),
  offer: (asset) => call('GET', `/v1/exchange/offers/${enc(asset)}`),
  consent: (asset, patient) => call('GET', `/v1/exchange/consents/${enc(asset)}/${enc(patient)}`),
  request: (id) => call('GET', `/v1/exchange/requests/${enc(id)}`),
  escrow: (id) => call('GET', `/v1/exchange/escrows/${enc(id)}`),
  convert: (source, to) => call('POST', '/v1/contracts/convert', { source, to }),
  stepContract: (source, ops) => call('POST', '/v1/contracts/step', { source, ops }),
  checkContract: (source) => call('POST', '/v1/contracts/check', { source }),
  contracts: (offset = 0, limit = 20) => call('GET', `/v1/contracts?offset=${offset}&limit=${limit}`),
  contract: (hash) => call('GET', `/v1/contracts/${enc(hash)}`),
  assetPurges: (asset) => call('GET', `/v1/data/purges/${enc(asset)}`).catch((e) => { if (e.status === 404) return null; throw e; }),
  patientPurges: (patient) => call('GET', `/v1/patients/${enc(patient)}/purges`),
  market: () => call('GET', '/v1/market').catch((e) => { if (e.status === 404) return null; throw e; }),
  rankings: (period) => call('GET', `/v1/market/rankings/${period}`),
  listings: (offset = 0, limit = 20, sort = 'new') => call('GET', `/v1/store/listings?offset=${offset}&limit=${limit}&sort=${enc(sort)}`),
  listing: (id) => call('GET', `/v1/store/listings/${enc(id)}`),
  listingRatings: (id, offset = 0, limit = 20) => call('GET', `/v1/store/listings/${enc(id)}/ratings?offset=${offset}&limit=${limit}`),
  family: (id) => call('GET', `/v1/store/family/${enc(id)}`),
  storeSearch: (q, limit = 20) => call('GET', `/v1/store/search?q=${enc(q)}&limit=${limit}`),
  storeWallet: (address) => call('GET', `/v1/store/wallets/${enc(address)}`),
  checkRun: (request, executor) => call('POST', '/v1/exchange/check', { request, executor, patients: [], exclude_revoked: true }),
  runRequest: (request, escrow) => call('POST', '/v1/exchange/runs', { request, escrow }),
  runState: (escrow) => call('GET', `/v1/exchange/runs/${enc(escrow)}`),
  audits: () => call('GET', '/v1/exchange/audits'),
  results: (request) => call('GET', `/v1/exchange/results/${enc(request)}`),
  xlog: (subject) => call('GET', `/v1/exchange/log/${enc(subject)}`),
  submit: (hex) => call('POST', '/v1/txs', { tx: hex }),
};

// Wait until a tx is in a block (committed or invalid); throws after timeoutMs.
export async function waitTx(id, timeoutMs = 60000) {
  const t0 = Date.now();
  for (;;) {
    try {
      const t = await api.tx(id);
      if (t.status !== 'pending') return t;
    } catch (e) { if (e.status !== 404) throw e; }
    if (Date.now() - t0 > timeoutMs) throw new Error(`tx ${id.slice(0, 12)}… not in a block after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 400));
  }
}
