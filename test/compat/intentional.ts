// Every known, intentional difference between sprout and Debian bookworm's cloud-init
// (22.4.2) on the compat cases, with the reason. docs/compat.md says the same for users.
// A divergence not matched here fails `npm run test:compat`.
import type { IntentionalDifference } from "./effects";

export const INTENTIONAL: IntentionalDifference[] = [];
