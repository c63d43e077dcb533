/**
 * The label sets (OpenMetrics' Metrics: a series' labels without `le`, `quantile` or a stateset's own
 * label) already seen in the family being parsed, by hash: a set that comes back after another one is
 * an interleaving the spec forbids. Open addressing over typed arrays with a generation stamp per slot,
 * so starting the next family costs nothing however large the last one was.
 */
export class GroupTable {
  #hashes = new Int32Array(1024);
  #generations = new Int32Array(1024);
  /** Per slot, the store index of the group's first sample. */
  #samples = new Int32Array(1024);
  #generation = 1;
  #count = 0;

  /** Forgets every group: the next family starts. */
  reset(): void {
    this.#generation++;
    this.#count = 0;
  }

  /** Forgets every group (the body is parsed; the table holds sample indexes only, nothing of the body). */
  release(): void {
    this.reset();
  }

  /**
   * Records the group of sample `sample` (an index) under `hash` unless a group with that hash whose first
   * sample `same` accepts (given `context`, passed on rather than closed over: no closure per call) is
   * there already; returns that earlier sample's index, or -1 when the group is new.
   */
  seen<C>(
    hash: number,
    sample: number,
    same: (earlier: number, sample: number, context: C) => boolean,
    context: C,
  ): number {
    if ((this.#count + 1) * 2 > this.#hashes.length) this.#grow();
    const hashes = this.#hashes;
    const generations = this.#generations;
    const generation = this.#generation;
    const mask = hashes.length - 1;
    let slot = hash & mask;
    while (generations[slot] === generation) {
      if (hashes[slot] === hash && same(this.#samples[slot]!, sample, context)) return this.#samples[slot]!;
      slot = (slot + 1) & mask;
    }
    generations[slot] = generation;
    hashes[slot] = hash;
    this.#samples[slot] = sample;
    this.#count++;
    return -1;
  }

  #grow(): void {
    const oldHashes = this.#hashes;
    const oldGenerations = this.#generations;
    const oldSamples = this.#samples;
    const size = oldHashes.length * 2;
    this.#hashes = new Int32Array(size);
    this.#generations = new Int32Array(size);
    this.#samples = new Int32Array(size);
    const mask = size - 1;
    for (let k = 0; k < oldHashes.length; k++) {
      if (oldGenerations[k] !== this.#generation) continue;
      let slot = oldHashes[k]! & mask;
      while (this.#generations[slot] === this.#generation) slot = (slot + 1) & mask;
      this.#generations[slot] = this.#generation;
      this.#hashes[slot] = oldHashes[k]!;
      this.#samples[slot] = oldSamples[k]!;
    }
  }
}
