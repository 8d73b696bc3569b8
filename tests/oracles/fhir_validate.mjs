// Validate FHIR R4 resources against the R4 definitions with the `fhir` package.
// Usage: node tests/oracles/fhir_validate.mjs < resources.json   (a JSON array)
// Prints {"checked": N, "invalid": [{"type", "errs"}]}.
import { createRequire } from 'module';
import { readFileSync } from 'fs';
const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');

const fhir = new Fhir();
const out = { checked: 0, invalid: [] };
for (const res of JSON.parse(readFileSync(0, 'utf8'))) {
  const r = fhir.validate(res, {});
  out.checked++;
  const errs = (r.messages || []).filter((m) => m.severity === 'error');
  if (!r.valid || errs.length) out.invalid.push({ type: res.resourceType, errs: errs.slice(0, 5) });
}
console.log(JSON.stringify(out));
