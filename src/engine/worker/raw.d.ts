// Vite's `?raw` suffix: the file's text as a string (the Worker bundle's ECharts for HTML exports).
declare module '*?raw' {
  const text: string;
  export default text;
}
