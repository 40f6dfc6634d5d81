/** View state: theme, the centre tab, the highlighted report row, notices. */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';

export type CenterTab = 'layers' | 'graph' | 'results' | 'compare' | 'sweep';
export type Theme = 'light' | 'dark';

const THEME_KEY = 'convscope.theme';

/** A modal message (AlertDialog.vue): for what must not scroll away as a notice would. */
export interface Alert {
  title: string;
  message: string;
  note?: string;
}

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export const useUi = defineStore('ui', () => {
  const stored = localStorage.getItem(THEME_KEY);
  const theme = ref<Theme>(stored === 'dark' || stored === 'light' ? stored : window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const tab = ref<CenterTab>('layers');
  /** Expanded op id (report row) selected in a chart, the table or the graph. */
  const selectedRow = ref<string | null>(null);
  const presetsOpen = ref(false);
  const notices = ref<Notice[]>([]);
  const alert = ref<Alert | null>(null);
  let nextNotice = 1;

  watch(
    theme,
    (t) => {
      document.documentElement.dataset.theme = t;
      localStorage.setItem(THEME_KEY, t);
    },
    { immediate: true },
  );

  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark';
  }

  function notify(text: string, kind: Notice['kind'] = 'info', ms = 5000): void {
    const id = nextNotice++;
    notices.value = [...notices.value, { id, kind, text }];
    setTimeout(() => dismiss(id), ms);
  }

  function showAlert(a: Alert): void {
    alert.value = a;
  }

  function closeAlert(): void {
    alert.value = null;
  }

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  return { theme, tab, selectedRow, presetsOpen, notices, alert, toggleTheme, notify, dismiss, showAlert, closeAlert };
});
