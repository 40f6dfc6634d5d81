import { SPEC_FORMAT, type LayerSpec, type ModelSpec, type ParamValue } from '../../shared/spec.ts';

type Params = Record<string, ParamValue>;

/** Appends layers in order; each returns its id so branches can name their inputs. */
export class SpecBuilder {
  private readonly layers: LayerSpec[] = [];

  op(id: string, op: string, params?: Params, inputs?: string[]): string {
    this.layers.push({ id, op, ...(params && Object.keys(params).length > 0 ? { params } : {}), ...(inputs ? { inputs } : {}) });
    return id;
  }

  block(id: string, block: string, params?: Params, inputs?: string[]): string {
    this.layers.push({ id, block, ...(params && Object.keys(params).length > 0 ? { params } : {}), ...(inputs ? { inputs } : {}) });
    return id;
  }

  build(name: string, inputShape: [number, number, number, number], seed = 0): ModelSpec {
    return { format: SPEC_FORMAT, name, input: { shape: [...inputShape] }, seed, layers: this.layers.map((l) => ({ ...l })) };
  }
}
