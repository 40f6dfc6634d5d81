import { createPinia } from 'pinia';
import { createApp } from 'vue';
import { z } from 'zod';
import App from './App.vue';
import './styles.css';

// The CSP forbids eval; zod would try `new Function` for its fast path and log a violation.
z.config({ jitless: true });

createApp(App).use(createPinia()).mount('#app');
