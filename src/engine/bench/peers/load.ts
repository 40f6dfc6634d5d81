/** Peers are dev dependencies: a production install lacks them, and the bench says which and why. */
export class PeerMissing extends Error {}

export async function importPeer<T>(name: string, load: () => Promise<unknown>): Promise<T> {
  try {
    const mod = (await load()) as Record<string, unknown>;
    // A CommonJS package whose exports Node could not list arrives as { default: exports }.
    const named = Object.keys(mod).some((k) => k !== 'default');
    return (named || !mod.default ? mod : mod.default) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new PeerMissing(`${name} is not installed (it is a dev dependency: run npm install without --omit=dev)`);
    }
    throw new PeerMissing(`${name} failed to load: ${(err as Error).message}`);
  }
}
