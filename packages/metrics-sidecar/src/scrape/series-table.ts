import type { SampleStore } from './sample-store.js';
import { seriesKey } from './snapshot.js';

/**
 * The series of one body by a 32-bit hash of their identity (name and labels in any order), in an
 * open-addressing table of two typed arrays (hash, 1 + the series' sample index in the store; 0 is free)
 * rather than a Map: the parser hashes spans of the line at no allocation, and the rare equal hashes are
 * told apart by comparing the series exactly.
 */
export class SeriesTable {
  #store: SampleStore | undefined;
  #size = 0;
  #hashes: Int32Array;
  #indexes: Int32Array;
  #found = 0;

  /** Sized once for about `expected` series (at most half full). */
  constructor(expected: number) {
    const slots = slotsFor(expected);
    this.#hashes = new Int32Array(slots);
    this.#indexes = new Int32Array(slots);
  }

  /** Empties the table for the next body of about `expected` series (in `store`), keeping its arrays when they fit. */
  reset(expected: number, store: SampleStore): void {
    this.#store = store;
    this.#size = 0;
    const slots = slotsFor(expected);
    if (slots > this.#hashes.length) {
      this.#hashes = new Int32Array(slots);
      this.#indexes = new Int32Array(slots);
    } else {
      this.#indexes.fill(0);
    }
  }

  /** Lets go of the body's samples (the body is parsed); the table is unusable until the next reset. */
  release(): void {
    this.#store = undefined;
    this.#size = 0;
  }

  /**
   * Adds sample `sample` (an index in the store) under `hash`; if its series is already there, returns
   * the index of the sample that stands for it instead, else -1.
   */
  add(hash: number, sample: number): number {
    const store = this.#store!;
    if ((this.#size + 1) * 2 > this.#hashes.length) this.#grow();
    const hashes = this.#hashes;
    const indexes = this.#indexes;
    const mask = hashes.length - 1;
    let slot = hash & mask;
    let key: string | undefined;
    while (indexes[slot] !== 0) {
      if (hashes[slot] === hash) {
        const other = indexes[slot]! - 1;
        key ??= seriesKey(store.series(sample));
        if (seriesKey(store.series(other)) === key) {
          this.#found = slot;
          return other;
        }
      }
      slot = (slot + 1) & mask;
    }
    this.#size++;
    hashes[slot] = hash;
    indexes[slot] = sample + 1;
    return -1;
  }

  /** Makes `sample` the one the series found by the last `add` stands for (a repeat with a later timestamp). */
  replaceFound(sample: number): void {
    this.#indexes[this.#found] = sample + 1;
  }

  #grow(): void {
    const oldHashes = this.#hashes;
    const oldIndexes = this.#indexes;
    const hashes = new Int32Array(oldHashes.length * 2);
    const indexes = new Int32Array(oldHashes.length * 2);
    const mask = hashes.length - 1;
    for (let k = 0; k < oldIndexes.length; k++) {
      if (oldIndexes[k] === 0) continue;
      let slot = oldHashes[k]! & mask;
      while (indexes[slot] !== 0) slot = (slot + 1) & mask;
      hashes[slot] = oldHashes[k]!;
      indexes[slot] = oldIndexes[k]!;
    }
    this.#hashes = hashes;
    this.#indexes = indexes;
  }
}

function slotsFor(expected: number): number {
  let slots = 1024;
  while (slots < expected * 2) slots *= 2;
  return slots;
}
