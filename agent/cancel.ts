// A switch that stops work nobody waits for any more: the requests to the slower
// metadata URLs once one has answered, and the waits before them. Pure: the Fetcher
// and the Clock (agent/host) listen to it.
import type { Cancellation } from "./host/types";

export class Cancel implements Cancellation {
  #cancelled = false;
  readonly #listeners = new Set<() => void>();

  get cancelled(): boolean {
    return this.#cancelled;
  }

  onCancel(listener: () => void): () => void {
    if (this.#cancelled) {
      listener();
      return () => {};
    }
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    for (const l of [...this.#listeners]) l();
    this.#listeners.clear();
  }
}
