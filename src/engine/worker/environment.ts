/**
 * What a report made in the browser Worker says about where it ran. A browser tells no CPU model;
 * the browser and its version (Chrome/..., Electron/...) stand where a Node report has Node's.
 */
import type { Report } from '../../shared/report.ts';

interface WorkerNavigatorInfo {
  userAgent?: string;
  platform?: string;
  hardwareConcurrency?: number;
}

export function browserEnvironment(appVersion: string, nav: WorkerNavigatorInfo = (globalThis as { navigator?: WorkerNavigatorInfo }).navigator ?? {}): Report['environment'] {
  const ua = nav.userAgent ?? '';
  const browser = ua.match(/Electron\/[\d.]+/)?.[0] ?? ua.match(/(?:Chrome|Chromium|Firefox|Version)\/[\d.]+/)?.[0] ?? 'unknown browser';
  const cores = nav.hardwareConcurrency;
  return {
    app_version: appVersion,
    node: `none (browser Worker, ${browser})`,
    platform: nav.platform || 'unknown platform',
    cpu: cores ? `${cores} logical cores (the browser names no CPU model)` : 'unknown CPU',
  };
}
