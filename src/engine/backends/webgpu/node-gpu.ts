/**
 * WebGPU in Node through the `webgpu` package (Dawn). Loaded only by a dynamic import from
 * provider.ts: a browser never loads this file.
 *
 * Sources, best first: the platform's native backend (Vulkan, Metal, D3D12) at feature level core;
 * then Dawn's OpenGL ES backend at feature level compatibility, which on a headless Linux box
 * without a GPU reaches Mesa's llvmpipe through surfaceless EGL (Debian: libegl1 libegl-mesa0
 * libgl1-mesa-dri). Timestamp quantization (100 us steps by default) is turned off so
 * per-op GPU times keep their resolution.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { create } from 'webgpu';
import type { GpuSource } from './adapters.ts';

const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];

/** Whether the dynamic loader can find the Vulkan loader: the usual directories, LD_LIBRARY_PATH, then ldconfig's cache. */
function vulkanLoaderFound(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  if (dirs.some((d) => existsSync(`${d}/libvulkan.so.1`))) return true;
  for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    if (!existsSync(ldconfig)) continue;
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return /\blibvulkan\.so\.1\b/.test(r.stdout);
  }
  // Cannot tell: let Dawn try.
  return true;
}

function vulkanHint(): string {
  if (process.platform !== 'linux') return '';
  return vulkanLoaderFound() ? ' (is a Vulkan driver installed?)' : ' (libvulkan.so.1 not found: no Vulkan loader)';
}

export function nodeGpuSources(): GpuSource[] {
  return [
    {
      label: 'Dawn native (core)',
      open: () => {
        // Without a Vulkan loader Dawn's native backend on Linux can find nothing, and trying
        // prints a warning with a stack trace on stderr: say why here instead.
        if (process.platform === 'linux' && !vulkanLoaderFound()) throw new Error('no adapter (libvulkan.so.1 not found: no Vulkan loader)');
        return create(DAWN_FLAGS);
      },
      adapterOptions: [
        { featureLevel: 'core', powerPreference: 'high-performance' },
        { featureLevel: 'core', powerPreference: 'low-power' },
      ],
      noAdapterHint: vulkanHint,
    },
    {
      label: 'Dawn OpenGL ES (compatibility)',
      open: () => {
        // Headless EGL: without this Mesa looks for an X11 or Wayland display.
        process.env.EGL_PLATFORM ??= 'surfaceless';
        return create(['backend=opengles', ...DAWN_FLAGS]);
      },
      adapterOptions: [{ featureLevel: 'compatibility', powerPreference: 'high-performance' }],
      noAdapterHint: () => ' (needs EGL and Mesa: libegl1 libegl-mesa0 libgl1-mesa-dri)',
    },
  ];
}
