// AssemblyScript (compiled by ../module.ts).
//
// Deformable convolution's bilinear im2col, straight into gemm.as's B panels (see conv.as for
// the layout): for a tile of output positions [p0, p0 + cols) of one sample, row c * taps + k of
// each panel of 8 positions holds channel c sampled at tap k's offset point of each position.
//
// Where a tap samples depends on the offset group, the tap and the position, not on the channel,
// so deform_corners computes per offset group the four corners (byte offsets into a channel
// plane) and their weights (the bilinear weights, times the mask for DCN v2) once, and
// deform_pack reads every channel of the group through them: 4 loads and 4 multiply-adds per
// sampled value. torchvision's rules: a point with y <= -1, y >= h, x <= -1 or x >= w samples 0,
// a corner outside the input adds nothing (offset 0, weight 0 here: no branch in deform_pack).
//
// Corner records: 256 bytes per (tap, panel), at cw + ((k * panels + q) << 8): four runs of 8
// i32 offsets (corners top-left, top-right, bottom-left, bottom-right), then four runs of 8 f32
// weights. Lanes past `cols` have weight 0.

export function deform_corners(
  off: usize, // offsets of this (sample, offset group): [2 * taps][P], dy then dx per tap
  mask: usize, // mask of this (sample, offset group): [taps][P]; 0 for DCN v1
  P: i32, kh: i32, kw: i32, sh: i32, sw: i32, pt: i32, pl: i32, dh: i32, dw: i32,
  h: i32, w: i32, wo: i32, p0: i32, cols: i32,
  cw: usize,
): void {
  const panels = (cols + 7) >> 3;
  const taps = kh * kw;
  const hf = <f64>h;
  const wf = <f64>w;
  for (let k = 0; k < taps; k++) {
    const i = k / kw;
    const j = k - i * kw;
    const dy = off + (<usize>(2 * k * P) << 2);
    const dx = dy + (<usize>P << 2);
    const mk = mask ? mask + (<usize>(k * P) << 2) : 0;
    let oy = p0 / wo;
    let ox = p0 - oy * wo;
    for (let q = 0; q < panels; q++) {
      const rec = cw + (<usize>(k * panels + q) << 8);
      for (let l = 0; l < 8; l++) {
        const t = (q << 3) + l;
        let i0 = 0, i1 = 0, i2 = 0, i3 = 0;
        let w0: f64 = 0, w1: f64 = 0, w2: f64 = 0, w3: f64 = 0;
        if (t < cols) {
          const p = <usize>(p0 + t) << 2;
          // In f64, as the TypeScript reference: the floor below sees the same point.
          const y = <f64>(oy * sh - pt + i * dh) + <f64>load<f32>(dy + p);
          const x = <f64>(ox * sw - pl + j * dw) + <f64>load<f32>(dx + p);
          if (++ox == wo) {
            ox = 0;
            oy++;
          }
          if (y > -1 && y < hf && x > -1 && x < wf) {
            const m: f64 = mask ? <f64>load<f32>(mk + p) : 1;
            const yl = <i32>Math.floor(y);
            const xl = <i32>Math.floor(x);
            const ly = y - <f64>yl;
            const lx = x - <f64>xl;
            const hy = 1 - ly;
            const hx = 1 - lx;
            const top = yl >= 0;
            const bottom = yl + 1 <= h - 1;
            const left = xl >= 0;
            const right = xl + 1 <= w - 1;
            const at = (yl * w + xl) << 2;
            if (top && left) { i0 = at; w0 = hy * hx * m; }
            if (top && right) { i1 = at + 4; w1 = hy * lx * m; }
            if (bottom && left) { i2 = at + (w << 2); w2 = ly * hx * m; }
            if (bottom && right) { i3 = at + (w << 2) + 4; w3 = ly * lx * m; }
          }
        }
        const o = rec + (<usize>l << 2);
        store<i32>(o, i0);
        store<i32>(o, i1, 32);
        store<i32>(o, i2, 64);
        store<i32>(o, i3, 96);
        store<f32>(o, <f32>w0, 128);
        store<f32>(o, <f32>w1, 160);
        store<f32>(o, <f32>w2, 192);
        store<f32>(o, <f32>w3, 224);
      }
    }
  }
}

@inline function gather4(xc: usize, rec: usize): v128 {
  let v = f32x4.splat(load<f32>(xc + <usize>load<i32>(rec)));
  v = f32x4.replace_lane(v, 1, load<f32>(xc + <usize>load<i32>(rec, 4)));
  v = f32x4.replace_lane(v, 2, load<f32>(xc + <usize>load<i32>(rec, 8)));
  v = f32x4.replace_lane(v, 3, load<f32>(xc + <usize>load<i32>(rec, 12)));
  return v;
}

// Channels [0, nc) (planes `plane` bytes apart from x) through the corner records at cw, into
// rows c * taps + k of the B panels at dst (panelK rows per panel).
export function deform_pack(x: usize, nc: i32, plane: usize, taps: i32, cols: i32, cw: usize, dst: usize, panelK: i32): void {
  const panels = (cols + 7) >> 3;
  const panelBytes = <usize>panelK << 5;
  let xc = x;
  for (let c = 0; c < nc; c++) {
    for (let q = 0; q < panels; q++) {
      let d = dst + <usize>q * panelBytes + (<usize>(c * taps) << 5);
      let rec = cw + (<usize>q << 8);
      for (let k = 0; k < taps; k++) {
        for (let half = 0; half < 2; half++) {
          const r = rec + (<usize>half << 4);
          let v = f32x4.mul(v128.load(r, 128), gather4(xc, r));
          v = f32x4.add(v, f32x4.mul(v128.load(r, 160), gather4(xc, r + 32)));
          v = f32x4.add(v, f32x4.mul(v128.load(r, 192), gather4(xc, r + 64)));
          v = f32x4.add(v, f32x4.mul(v128.load(r, 224), gather4(xc, r + 96)));
          v128.store(d + (<usize>half << 4), v);
        }
        d += 32;
        rec += <usize>panels << 8;
      }
    }
    xc += plane;
  }
}
