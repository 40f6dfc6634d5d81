/** The workbench draws with the same option builders as the HTML report: they live in src/shared/present. */
export * from '../../shared/present/charts.ts';
