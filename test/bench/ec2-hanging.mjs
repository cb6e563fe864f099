// `sprout boot` on EC2 against a metadata service that never answers, with
// datasource.Ec2.max_wait: 3: the boot must end (degraded, on None) in under 4 s.
// The measurement lives in ec2.mjs; this file gives it its own line in `npm run bench`.
export { benchHanging as bench } from "./ec2.mjs";
