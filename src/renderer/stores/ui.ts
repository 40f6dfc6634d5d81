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

/** A question the workbench asks before it does something hard to see undone (one at a time). */
export interface Confirmation {
  title: string;
  /** Lines of explanation. */
  lines: string[];
  confirmLabel: string;
  /** A third choice (e.g. "Save first"), when there is one. */
  alternative?: { label: string; run: () => void | Promise<void> };
  run: () => void | Promise<void>;
}

export const useUi = defineStore('ui', () => {
  const stored = localStorage.getItem(THEME_KEY);
  const theme = ref<Theme>(stored === 'dark' || stored === 'light' ? stored : window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
  const tab = ref<CenterTab>('layers');
  /** Expanded op id (report row) selected in a chart, the table or the graph. */
  const selectedRow = ref<string | null>(null);
  const presetsOpen = ref(false);
  const notices = ref<Notice[]>([]);
  const confirmation = ref<Confirmation | null>(null);
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

  function ask(c: Confirmation): void {
    confirmation.value = c;
  }

  /** Closes the open dialog (an alert, a question, then the preset gallery); false when none was open. */
  function closeDialog(): boolean {
    if (alert.value) alert.value = null;
    else if (confirmation.value) confirmation.value = null;
    else if (presetsOpen.value) presetsOpen.value = false;
    else return false;
    return true;
  }

  return { theme, tab, selectedRow, presetsOpen, notices, alert, confirmation, toggleTheme, notify, dismiss, showAlert, closeAlert, ask, closeDialog };
});
