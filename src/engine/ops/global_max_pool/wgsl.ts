import { globalPoolWgsl } from '../global_avg_pool/wgsl.ts';

/** Max of each plane: the global-pool reduction of global_avg_pool/wgsl.ts with max. */
export const globalMaxPoolWgsl = globalPoolWgsl('max');
