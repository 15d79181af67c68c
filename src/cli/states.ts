/**
 * State words on the command line: `--state R,Q` or `--state running,queued`
 * (status, clean).
 *
 * @module
 */

import { type State, STATE_NAMES, STATES } from "../job.ts";
import { UsageError } from "./common.ts";

/** Parses `--state R,Q` or `--state running,queued` into state letters. */
export function parseStates(text: string): Set<State> {
  const states = new Set<State>();
  for (const word of text.split(",")) {
    const letter = STATES.find((s) =>
      s === word.toUpperCase() || STATE_NAMES[s] === word.toLowerCase()
    );
    if (letter === undefined) {
      throw new UsageError(
        `bad state "${word}"`,
        `states are ${STATES.join(",")} or their names (running…)`,
      );
    }
    states.add(letter);
  }
  return states;
}
