// `npm run bench`, VM part: where a real boot's time goes. Boots the cached image
// (built by `npm run test:vm`; never built here) under qemu with a cidata seed and
// reports, from inside the guest: kernel, initrd and userspace time (the timestamps
// systemd-analyze reads),
// each sprout stage's end measured from the kernel's start (sprout's own stage
// timestamps against the guest's boot time), and host-side time from power-on
// (qemu start) to the report unit ordered after sprout's final stage.
import { mkdtempSync, rmSync } from "node:fs";
import { bootVm, builtImage, markers, overlayDisk, reportUserData, seedIso, vmUnavailable } from "../vm/vm.mjs";

function systemdTimes(line) {
  const [initrd, userspace, multiUser] = (line ?? "").split(" ").map(Number);
  if (!userspace) return { systemd: null };
  // initramfs-tools' initrd does not run systemd, so systemd has no initrd timestamp
  // and, like systemd-analyze, counts the initrd in the kernel's time.
  return {
    [initrd ? "kernel_ms" : "kernel_and_initrd_ms"]: Math.round((initrd || userspace) / 1000),
    ...(initrd ? { initrd_ms: Math.round((userspace - initrd) / 1000) } : {}),
    userspace_to_multi_user_ms: multiUser ? Math.round((multiUser - userspace) / 1000) : null,
  };
}

export async function bench() {
  const why = vmUnavailable();
  if (why) return { bench: "vm-boot", skipped: why };
  const image = builtImage();
  if (!image) return { bench: "vm-boot", skipped: "no image built yet: run `npm run test:vm` once (it builds and caches it)" };
  const dir = mkdtempSync("/var/tmp/sprout-vm-bench-");
  try {
    const seed = seedIso(dir, { "meta-data": "instance-id: iid-vm-bench\n", "user-data": reportUserData({ hostname: "vm-bench" }) });
    const r = await bootVm({ dir, disks: [{ file: overlayDisk(dir, image, 4) }, { file: seed.iso, cdrom: true }], timeoutMs: 1_000_000 });
    const m = markers(r.console);
    if (m.DONE === undefined) return { bench: "vm-boot", error: `the guest did not report (${r.ended} after ${r.ms} ms)` };
    const [uptime, now] = m.UPTIME.split(" ").map(Number);
    const kernelStartMs = (now - uptime) * 1000;
    const status = JSON.parse(m["STATUS-JSON"]).v1;
    const sinceKernel = (iso) => (iso ? Math.round(Date.parse(iso) - kernelStartMs) : null);
    return {
      bench: "vm-boot",
      accel: "tcg",
      host_poweron_to_report_ms: r.markersMs["SPROUT-VM-DONE"] ?? null,
      host_poweron_to_runcmd_marker_ms: r.markersMs["SPROUT-VM-MARKER"] ?? null,
      // systemd-analyze's figures, from the same timestamps (µs since the kernel started).
      ...systemdTimes(m.SYSTEMD),
      // Before the local stage starts: Node's start and the bundle's load (no code cache on a first boot).
      sprout_local_start_since_kernel_ms: sinceKernel(status.stages.local.start),
      sprout_stage_end_since_kernel_ms: Object.fromEntries(["local", "network", "config", "final"].map((s) => [s, sinceKernel(status.stages[s].end)])),
      sprout_stage_ms: Object.fromEntries(["local", "network", "config", "final"].map((s) => [s, status.stages[s].ms])),
      note: "stage_end_since_kernel excludes BIOS and GRUB; host_poweron includes them (TCG emulation: far slower than hardware)",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
