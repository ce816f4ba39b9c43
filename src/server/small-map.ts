/**
 * A Map for what nearly always holds one entry, such as the sockets joined to a session: one entry
 * lives in two fields, and a real Map is made only for a second. A Map with one entry costs some
 * 300 bytes in JSC; every idle session has one, and idle sessions are what a server holds most of.
 */
export class SmallMap<K, V> {
  #key: K | undefined;
  #value: V | undefined;
  #hasOne = false;
  #many: Map<K, V> | undefined;

  get size(): number {
    return this.#many ? this.#many.size : this.#hasOne ? 1 : 0;
  }

  has(key: K): boolean {
    return this.#many ? this.#many.has(key) : this.#hasOne && this.#key === key;
  }

  get(key: K): V | undefined {
    if (this.#many) return this.#many.get(key);
    return this.#hasOne && this.#key === key ? this.#value : undefined;
  }

  set(key: K, value: V): void {
    if (this.#many) {
      this.#many.set(key, value);
    } else if (!this.#hasOne || this.#key === key) {
      this.#key = key;
      this.#value = value;
      this.#hasOne = true;
    } else {
      this.#many = new Map([[this.#key!, this.#value!], [key, value]]);
      this.#forgetOne();
    }
  }

  delete(key: K): boolean {
    if (this.#many) return this.#many.delete(key);
    if (!this.#hasOne || this.#key !== key) return false;
    this.#forgetOne();
    return true;
  }

  clear(): void {
    this.#many = undefined;
    this.#forgetOne();
  }

  /** The keys, as a copy: the map may change while the caller goes through them. */
  keys(): K[] {
    if (this.#many) return [...this.#many.keys()];
    return this.#hasOne ? [this.#key!] : [];
  }

  /** The entries, as a copy. */
  entries(): [K, V][] {
    if (this.#many) return [...this.#many.entries()];
    return this.#hasOne ? [[this.#key!, this.#value!]] : [];
  }

  #forgetOne(): void {
    this.#key = undefined;
    this.#value = undefined;
    this.#hasOne = false;
  }
}
