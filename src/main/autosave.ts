/**
 * Autosave: the window sends its design whenever it changes; while it has unsaved changes the
 * design sits in the app's data folder. A clean save or a deliberate discard removes it, so a file
 * found at startup means the app did not get to close normally, and it is offered back.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { z } from 'zod';
import type { AutosaveState, Recovery } from '../shared/ipc.ts';
import { modelSpecSchema } from '../shared/report-schema.ts';
import { writeAtomic } from './files.ts';

const stored = z.object({ spec: modelSpecSchema, path: z.string().nullable(), savedAt: z.string() });

export class Autosave {
  constructor(
    private readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  update(state: AutosaveState): void {
    if (!state || !state.dirty) return this.clear();
    writeAtomic(this.file, JSON.stringify({ spec: state.spec, path: state.path, savedAt: this.now().toISOString() }));
  }

  clear(): void {
    rmSync(this.file, { force: true });
  }

  /** What was left by a session that ended with unsaved changes; a damaged file is dropped. */
  recover(): Recovery {
    if (!existsSync(this.file)) return null;
    try {
      return stored.parse(JSON.parse(readFileSync(this.file, 'utf8')));
    } catch {
      this.clear();
      return null;
    }
  }
}
