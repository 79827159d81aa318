// Parses HCL files with HashiCorp's parser (npm @cdktf/hcl2json, hcl v2 compiled to WebAssembly)
// and prints {"<path>": <parsed>, ...} as JSON. A file that does not parse fails the run.
// Usage: node hcl2json.mjs FILE...
import { readFile } from "node:fs/promises";
import { parse } from "@cdktf/hcl2json";

const out = {};
let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    out[file] = await parse(file, await readFile(file, "utf8"));
  } catch (e) {
    failed = true;
    console.error(`${file}: ${e && e.message ? e.message : e}`);
  }
}
process.stdout.write(JSON.stringify(out));
process.exit(failed ? 1 : 0);
