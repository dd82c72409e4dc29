/**
 * Fast resume for chopsticks 1.5.1. Every block chopsticks saves carries `:code` in its storage diff, so when it loads
 * a chain back from its db (resume) each block drops the metadata inherited from its parent and re-runs
 * `Metadata_metadata` in the wasm executor and rebuilds a type registry: ~0.7 s per block here, 20-35 s to resume a
 * freshly bootstrapped chain and minutes for a long one. Metadata, registry and decorated metadata are a function of
 * the runtime code alone (for one chain), so we share them between blocks with the same code, which is what chopsticks
 * itself does for blocks it builds (they inherit their parent's).
 *
 * Applied once per process; a no-op if chopsticks' Block no longer has these getters.
 */
type Getter = (this: BlockLike) => Promise<unknown>;
interface BlockLike {
  readonly chain: object;
  readonly wasm: Promise<string>;
}

const PATCHED = Symbol.for('veracity.chopsticks.sharedMetadata');

export function shareMetadataByCode(Block: { prototype: object }): boolean {
  const proto = Block.prototype as Record<symbol, unknown>;
  if (proto[PATCHED]) return true;
  const names = ['metadata', 'registry', 'meta'] as const;
  const originals = names.map((n) => Object.getOwnPropertyDescriptor(Block.prototype, n)?.get as Getter | undefined);
  if (originals.some((g) => !g)) return false;
  names.forEach((name, i) => {
    const original = originals[i]!;
    const byChain = new WeakMap<object, Map<string, Promise<unknown>>>();
    Object.defineProperty(Block.prototype, name, {
      configurable: true,
      get(this: BlockLike) {
        // keyed by the code each time, so a block whose code is replaced (setWasm, an upgrade) gets the new one
        return this.wasm.then((wasm) => {
          let perCode = byChain.get(this.chain);
          if (!perCode) byChain.set(this.chain, (perCode = new Map()));
          let shared = perCode.get(wasm);
          if (!shared) {
            shared = original.call(this);
            perCode.set(wasm, shared);
            shared.catch(() => perCode!.delete(wasm));
          }
          return shared;
        });
      },
    });
  });
  proto[PATCHED] = true;
  return true;
}
