/** Chart colours from the active theme's CSS variables, so charts follow light/dark like the rest. */
import { computed } from 'vue';
import { useUi } from '../stores/ui.ts';
import type { ChartColors } from './charts.ts';

export function useChartColors() {
  const ui = useUi();
  return computed<ChartColors>(() => {
    void ui.theme; // recompute when the theme changes: the variables below depend on it
    const css = getComputedStyle(document.documentElement);
    const v = (name: string) => css.getPropertyValue(name).trim();
    return {
      text: v('--text'),
      muted: v('--muted'),
      grid: v('--border'),
      accent: v('--accent'),
      highlight: v('--highlight'),
      series: Array.from({ length: 10 }, (_, i) => v(`--chart-${i + 1}`)),
    };
  });
}
