// Fails when frontend/openapi.json or src/services/schema.d.ts differ from what the backend generates now.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const here = resolve(import.meta.dirname, "..");
const tmp = mkdtempSync(join(tmpdir(), "flightdesk-api-"));
const python = resolve(here, "../.venv/bin/python");
execFileSync(python, [resolve(here, "../scripts/gen_openapi.py"), join(tmp, "openapi.json")], { stdio: "ignore" });
execFileSync(resolve(here, "node_modules/.bin/openapi-typescript"), [join(tmp, "openapi.json"), "--empty-objects-unknown", "-o", join(tmp, "schema.d.ts")], {
  stdio: "ignore",
});
const stale = [
  ["openapi.json", join(tmp, "openapi.json")],
  ["src/services/schema.d.ts", join(tmp, "schema.d.ts")],
].filter(([committed, fresh]) => {
  try {
    return readFileSync(join(here, committed), "utf8") !== readFileSync(fresh, "utf8");
  } catch {
    return true;
  }
});
if (stale.length) {
  console.error(`stale generated API files: ${stale.map(([f]) => f).join(", ")}; run \`npm run gen:api\` in frontend/`);
  process.exit(1);
}
console.log("generated API client is up to date");
