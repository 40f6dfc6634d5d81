/** The recent-files list (File > Open Recent), kept in the app's data folder. */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeAtomic } from './files.ts';

const MAX = 10;

export class RecentFiles {
  private list: string[] = [];

  constructor(private readonly file: string) {
    try {
      this.list = z.array(z.string()).parse(JSON.parse(readFileSync(file, 'utf8'))).slice(0, MAX);
    } catch {
      this.list = [];
    }
  }

  /** Most recent first; files that have since disappeared are left out. */
  get(): string[] {
    return this.list.filter((p) => existsSync(p));
  }

  add(path: string): void {
    this.list = [path, ...this.list.filter((p) => p !== path)].slice(0, MAX);
    this.save();
  }

  remove(path: string): void {
    this.list = this.list.filter((p) => p !== path);
    this.save();
  }

  clear(): void {
    this.list = [];
    this.save();
  }

  private save(): void {
    try {
      writeAtomic(this.file, JSON.stringify(this.list, null, 2));
    } catch {
      // A read-only data folder costs the list, not the app.
    }
  }
}
