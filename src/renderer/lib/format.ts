/** The workbench formats numbers as every other view does: the rules live in src/shared/present. */
export { bytes, delta, exact, gbps, gflops, ms, msUnit, num3, percent, ratio, shape, shapeX, si, siUnit, siWord } from '../../shared/present/format.ts';
