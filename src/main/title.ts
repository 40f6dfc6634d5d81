import type { TitleState } from '../shared/ipc.ts';

/** `• resnet-variant.convscope.json — Convscope`: the file (or design) name, with a marker while unsaved. */
export function windowTitle(state: TitleState): string {
  const name = state.path ? state.path.split(/[\\/]/).pop()! : state.name || 'Untitled';
  return `${state.dirty ? '• ' : ''}${name} — Convscope`;
}
