/**
 * The CPU backend's memory: one shared WebAssembly.Memory (a growable SharedArrayBuffer) that the
 * main thread and every worker see, and that the WebAssembly kernels address directly. Tensors
 * are byte offsets into it; the TypeScript kernels get Float32Array views on the same bytes, so
 * nothing is ever copied between threads or between the two kinds of kernels.
 *
 * A first-fit allocator with coalescing hands out 64-byte aligned blocks. Every block is followed
 * by GUARD bytes that nothing else uses and the first RESERVED bytes are never handed out: the
 * vector kernels may read a few floats before or after a tensor (and mask them away), and those
 * reads must stay inside the memory.
 */
import { EngineError } from '../../errors.ts';
import { MAX_PAGES, WA, type WasmMemory } from './wasm/module.ts';

const PAGE = 65536;
const ALIGN = 64;
/** Bytes after every block that vector loads may touch (conv.as reads up to 16 floats past a row). */
export const GUARD = 128;
/** Low addresses left alone (and readable): the lowest valid reads a kernel makes are a few floats before a tensor. */
const RESERVED = PAGE;

export class Arena {
  readonly memory: WasmMemory;
  /** Free blocks [offset, size], sorted by offset, never adjacent. */
  private readonly free: [number, number][] = [];
  private readonly used = new Map<number, number>();
  private top = RESERVED;

  constructor(initialBytes = 0) {
    const pages = Math.max(2, Math.ceil((RESERVED + initialBytes) / PAGE));
    this.memory = new WA.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
  }

  /** Bytes of memory in use (blocks and their guards), and the memory's size. */
  stats(): { usedBytes: number; memoryBytes: number } {
    let used = 0;
    for (const size of this.used.values()) used += size;
    return { usedBytes: used, memoryBytes: this.memory.buffer.byteLength };
  }

  /** A block of at least `bytes` bytes, 64-byte aligned, contents undefined. */
  alloc(bytes: number): number {
    const size = Math.ceil((Math.max(bytes, 4) + GUARD) / ALIGN) * ALIGN;
    for (let i = 0; i < this.free.length; i++) {
      const [off, len] = this.free[i];
      if (len < size) continue;
      if (len === size) this.free.splice(i, 1);
      else this.free[i] = [off + size, len - size];
      this.used.set(off, size);
      return off;
    }
    const off = this.top;
    const end = off + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const maxBytes = MAX_PAGES * PAGE;
      if (end > maxBytes) {
        throw new EngineError(
          `the CPU backend's shared memory would need ${(end / 1024 ** 3).toFixed(2)} GiB; it holds at most 4 GiB (a WebAssembly memory's limit). Reduce the batch or input size.`,
        );
      }
      // Grow by at least a quarter of the current size, so a model placed tensor by tensor grows a few times, not once per tensor.
      const want = Math.min(MAX_PAGES, Math.max(Math.ceil(end / PAGE), Math.ceil((have * 1.25) / PAGE)));
      this.memory.grow(want - have / PAGE);
    }
    this.top = end;
    this.used.set(off, size);
    return off;
  }

  release(offset: number): void {
    const size = this.used.get(offset);
    if (size === undefined) throw new Error(`arena: ${offset} is not an allocated block`);
    this.used.delete(offset);
    let i = 0;
    while (i < this.free.length && this.free[i][0] < offset) i++;
    this.free.splice(i, 0, [offset, size]);
    // Coalesce with the next, then with the previous block.
    if (i + 1 < this.free.length && this.free[i][0] + this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] += this.free[i + 1][1];
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1][0] + this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] += this.free[i][1];
      this.free.splice(i, 1);
      i--;
    }
    // A free block at the top goes back to the bump pointer.
    const last = this.free[this.free.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free.pop();
    }
  }

  /** A Float32Array view of `length` floats at `offset` (valid for the memory's whole life). */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  /** Places a copy of `data` and returns its offset. */
  place(data: Float32Array): number {
    const off = this.alloc(data.length * 4);
    this.f32(off, data.length).set(data);
    return off;
  }
}
