// Stands in, inside the bundle only, for pino's transport machinery (worker
// threads, thread-stream, sonic-boom). sprout hands pino its own synchronous
// stream, so these are never called; leaving them out saves their start-up time.
function unavailable() {
  throw new Error("pino transports and destinations are not part of the sprout bundle");
}
module.exports = unavailable;
module.exports.default = unavailable;
module.exports.isMainThread = true;
