import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { moduleContext } from "../../test/helpers/module-context";
import { tempRoot, type TempRoot } from "../../test/helpers/target";
import { finalMessage, renderFinalMessage } from ".";

const roots: TempRoot[] = [];
afterEach(() => roots.splice(0).forEach((r) => r.cleanup()));

describe("final_message", () => {
  it("fills in $UPTIME, $TIMESTAMP, $INSTANCE_ID, $VERSION and ${DATASOURCE}", async () => {
    const r = tempRoot({ "/proc/uptime": "12.34 40.00\n" });
    roots.push(r);
    const res = await finalMessage.run({ final_message: "up $UPTIME id=$INSTANCE_ID ds=${DATASOURCE} v=$VERSION at $TIMESTAMP" }, moduleContext(r, { stage: "final" }));
    expect(res.detail).toMatch(/^up 12\.34 id=iid-test-1 ds=NoCloud v=\S+ at \w{3}, \d\d \w{3} \d{4} /);
    expect(readFileSync(join(r.dir, "var/lib/sprout/instances/iid-test-1/boot-finished"), "utf8")).toMatch(/^12\.34 - /);
    expect(readFileSync(join(r.dir, "var/log/sprout.log"), "utf8")).toContain("up 12.34 id=iid-test-1");
  });

  it("leaves unknown placeholders as they are", () => {
    expect(renderFinalMessage("$UPTIME $NOPE", { UPTIME: "1" })).toBe("1 $NOPE");
  });
});
