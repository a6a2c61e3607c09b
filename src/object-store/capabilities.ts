// What GET /info tells clients about this cluster (Swift's register_swift_info): one section
// per feature, the proxy's own under "swift", each middleware adding its own when it is built
// into the pipeline (tempurl, slo, ...). One registry per proxy, handed to whoever registers.

export type CapabilitySettings = Record<string, unknown>;

export class Capabilities {
  readonly #sections = new Map<string, CapabilitySettings>();

  /** Adds (or extends) a section; settings registered twice under one name are merged. */
  register(name: string, settings: CapabilitySettings = {}): void {
    if (name === 'admin' || name === 'disallowed_sections') throw new Error(`'${name}' is reserved in /info`);
    this.#sections.set(name, { ...(this.#sections.get(name) ?? {}), ...settings });
  }

  has(name: string): boolean {
    return this.#sections.has(name);
  }

  get(name: string): CapabilitySettings | undefined {
    const section = this.#sections.get(name);
    return section && { ...section };
  }

  /** The /info document: { swift: {...}, tempurl: {...}, ... } */
  toJSON(): Record<string, CapabilitySettings> {
    return Object.fromEntries([...this.#sections].map(([name, settings]) => [name, { ...settings }]));
  }
}
