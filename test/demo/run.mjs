// `npm run demo`: boots the bundle on test/demo/seed (a NoCloud seed like one you
// would give cloud-init) into a temporary directory used as the machine's root,
// and shows what sprout did and where to look.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bundle = new URL("../../dist/sprout.js", import.meta.url).pathname;
const seed = new URL("./seed", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "sprout-demo-"));
mkdirSync(join(root, "proc"), { recursive: true });
writeFileSync(join(root, "proc/cmdline"), "root=LABEL=cloudimg-rootfs ro console=ttyS0\n");
writeFileSync(join(root, "proc/uptime"), "3.14 2.00\n");
mkdirSync(join(root, "etc"), { recursive: true });
writeFileSync(join(root, "etc/hosts"), "127.0.0.1 localhost\n");
cpSync(seed, join(root, "var/lib/cloud/seed/nocloud"), { recursive: true });

const say = (s = "") => process.stdout.write(s + "\n");
const sprout = (...args) => spawnSync(process.execPath, [bundle, "--root", root, ...args], { encoding: "utf8", env: { ...process.env, SPROUT_DEMO_ROOT: root } });

say(`sprout demo: a machine whose root is ${root}`);
say(`seed: ${seed}/{meta-data,user-data} copied to /var/lib/cloud/seed/nocloud/\n`);
say("$ sprout --root DIR boot");
const t0 = process.hrtime.bigint();
const boot = sprout("boot");
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(boot.stderr.split("\n").map((l) => (l ? `  | ${l}` : l)).join("\n"));
process.stdout.write(boot.stdout.split("\n").map((l) => (l ? `  | ${l}` : l)).join("\n"));
say(`\nboot exit status ${boot.status}, ${ms.toFixed(0)} ms including Node start-up\n`);

const status = JSON.parse(readFileSync(join(root, "run/sprout/status.json"), "utf8")).v1;
say(`datasource:  ${status.datasource}`);
say(`instance-id: ${status.instance_id}`);
say("modules:");
for (const [stage, rec] of Object.entries(status.stages)) {
  for (const m of rec.modules) say(`  ${stage.padEnd(8)} ${m.id.padEnd(22)} ${m.status.padEnd(10)} ${m.detail ?? ""}`);
}
say(`\nthe machine now has:`);
say(`  /etc/hostname        ${readFileSync(join(root, "etc/hostname"), "utf8").trim()}`);
say(`  /etc/hosts           ${readFileSync(join(root, "etc/hosts"), "utf8").trim().split("\n").pop()}`);
say(`  /etc/motd            ${readFileSync(join(root, "etc/motd"), "utf8").trim()}`);
say(`\n/var/log/user_data.log (every user script's output):`);
say(readFileSync(join(root, "var/log/user_data.log"), "utf8").replace(/^/gm, "  "));
say("$ sprout --root DIR status");
say(sprout("status").stdout.replace(/^/gm, "  "));
say("$ sprout --root DIR query v1.local_hostname");
say("  " + sprout("query", "v1.local_hostname").stdout);
say("where to look:");
say(`  ${root}/var/log/sprout.log                  the agent's log (JSON lines)`);
say(`  ${root}/var/log/user_data.log              user scripts' output`);
say(`  ${root}/run/sprout/status.json             per-stage status, read by \`sprout status\``);
say(`  ${root}/run/sprout/instance-data.json      instance data, read by \`sprout query\``);
say(`  ${root}/var/lib/sprout/instance/           per-instance state (user-data, semaphores)`);
say(`\ntry: node dist/sprout.js --root ${root} analyze show`);
process.exit(boot.status === 0 ? 0 : 1);
