/**
 * sjq: a batch job queue for one server. The same program is the daemon
 * (`sjq daemon`) and the client (`sjq submit`, `status`, …).
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
